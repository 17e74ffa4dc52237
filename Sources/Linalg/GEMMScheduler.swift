import CKernels
import Support

/// Splits a batch of equally shaped GEMMs (`jobs` of them, each C[m×n]) into per-thread blocks.
///
/// Blocks are whole column strips (multiples of the tile's columns) or whole row strips
/// (multiples of its rows), so every element is reduced by one thread with the same kernel in
/// the same order: results are bit-identical for any thread count.
enum GEMMScheduler {
    /// `finish`, when given, is called by the same thread right after each block of a job is
    /// complete, with the block's rows and columns (for a per-block epilogue pass).
    static func run(jobs: Int, m: Int, n: Int, isa: KernelISA, threads: Int,
                    call: (_ job: Int) -> ck_gemm_call,
                    finish: ((_ job: Int, _ rows: Range<Int>, _ columns: Range<Int>) -> Void)? = nil) {
        guard jobs > 0, m > 0, n > 0 else { return }
        let tile = isa.effective.tile
        let columnTiles = (n + tile.columns - 1) / tile.columns
        let rowTiles = (m + tile.rows - 1) / tile.rows
        let workers = min(Parallel.clamp(threads: threads), max(jobs * columnTiles, jobs * rowTiles))
        // Column strips need no duplicated packing (each thread packs only its own B panels), so
        // they win whenever there are enough of them; row strips make every thread pack all of B.
        let byColumns = workers == 1 || jobs * columnTiles >= workers
        let tilesPerJob = byColumns ? columnTiles : rowTiles
        let units = jobs * tilesPerJob
        // Several column parts per thread, claimed dynamically, so that a thread descheduled by
        // another process's load holds up only a small part, when A is prepacked (weights).
        // Otherwise every part packs all of A (and every row part all of B): one per thread.
        let aPacked = call(0).a.kind == CK_OPERAND_PACKED
        let parts = workers == 1 ? 1 : min(units, Parallel.maxParts, byColumns && aPacked ? workers * Parallel.partsPerWorker : workers)
        let scratchBytes = Int(ck_f32_gemm_scratch_bytes(isa.cValue))
        Parallel.run(workers: parts) { part in
            let mine = Parallel.share(part, of: parts, count: units)
            guard !mine.isEmpty else { return }
            ScratchPool.with(byteCount: scratchBytes) { scratch in
                var unit = mine.lowerBound
                while unit < mine.upperBound {
                    let job = unit / tilesPerJob
                    let first = unit % tilesPerJob
                    let last = min(tilesPerJob, first + (mine.upperBound - unit))
                    var c = call(job)
                    if byColumns {
                        c.m0 = 0; c.m1 = Int64(m)
                        c.n0 = Int64(first * tile.columns); c.n1 = Int64(min(n, last * tile.columns))
                    } else {
                        c.n0 = 0; c.n1 = Int64(n)
                        c.m0 = Int64(first * tile.rows); c.m1 = Int64(min(m, last * tile.rows))
                    }
                    ck_f32_gemm(isa.cValue, &c, scratch)
                    finish?(job, Int(c.m0)..<Int(c.m1), Int(c.n0)..<Int(c.n1))
                    unit += last - first
                }
            }
        }
    }
}
