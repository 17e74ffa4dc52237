import CKernels

/// A constant GEMM operand (typically weights) packed once into the micro-kernel's panel layout
/// for one kernel variant, so repeated products do not repack it.
///
/// As the left operand it is A[rows × columns] = A[m × k]; as the right operand B[rows × columns]
/// = B[k × n]. The source is read as element (r, c) at `source[r * rowStride + c * columnStride]`,
/// so a transposed matrix is packed by swapping the strides.
public final class PackedMatrix: @unchecked Sendable {
    public enum Role: Sendable { case left, right }

    public let role: Role
    public let rows: Int
    public let columns: Int
    /// The variant whose layout this is; products with this operand run that variant.
    public let isa: KernelISA
    let storage: UnsafeMutablePointer<Float>

    /// - Throws: `LinalgError` when a size is negative or the source is too short for the strides.
    public init(role: Role, rows: Int, columns: Int, source: UnsafeBufferPointer<Float>,
                rowStride: Int, columnStride: Int, isa: KernelISA = .selected) throws {
        guard rows >= 0, columns >= 0, rowStride >= 0, columnStride >= 0 else {
            throw LinalgError("packed matrix: expected non-negative sizes and strides, got \(rows)x\(columns) strides \(rowStride),\(columnStride)")
        }
        if rows > 0 && columns > 0 {
            let lastRow = try Checked.product(rows - 1, rowStride, what: "packed matrix")
            let lastColumn = try Checked.product(columns - 1, columnStride, what: "packed matrix")
            let (end, overflow) = lastRow.addingReportingOverflow(lastColumn)
            guard !overflow, end < source.count, source.baseAddress != nil else {
                throw LinalgError("packed matrix: source of \(source.count) values too short for \(rows)x\(columns) with strides \(rowStride),\(columnStride)")
            }
        }
        _ = try Checked.product(rows + 64, columns + 64, what: "packed matrix")
        let effective = isa.effective
        let count = role == .left
            ? ck_f32_packed_a_count(effective.cValue, Int64(rows), Int64(columns))
            : ck_f32_packed_b_count(effective.cValue, Int64(rows), Int64(columns))
        self.role = role
        self.rows = rows
        self.columns = columns
        self.isa = effective
        storage = .allocate(capacity: max(Int(count), 16))
        guard rows > 0, columns > 0, let base = source.baseAddress else { return }
        if role == .left {
            ck_f32_pack_a(effective.cValue, Int64(rows), Int64(columns), base, rowStride, columnStride, storage)
        } else {
            ck_f32_pack_b(effective.cValue, Int64(rows), Int64(columns), base, rowStride, columnStride, storage)
        }
    }

    deinit { storage.deallocate() }

    var operand: ck_operand {
        var o = ck_operand()
        o.kind = CK_OPERAND_PACKED
        o.data = UnsafePointer(storage)
        return o
    }
}
