import NetworkIR
import ONNXFormat

/// The PyTorch module path (`layer1.0.conv1`, the name `named_modules()` gives) of a Conv, Gemm or
/// MatMul node of a model written by `torch.onnx.export`, read from what the exporter left in
/// the ONNX file, so that a plan made on the ONNX graph can be applied to the original nn.Module
/// (docs/pytorch.md).
///
/// Three places can name the module, and none is always there:
/// - the weight initializer, when its name is a state-dict key `<module>.weight` (the dynamo
///   exporter keeps these names even after folding BatchNormalization into the weight; the
///   TorchScript exporter keeps them only for weights it did not fold, else writes `onnx::Conv_N`);
/// - the TorchScript exporter's node name `/layer1/layer1.0/conv1/Conv`, one scope per module
///   call, each scope the module's qualified name cut to its last non-numeric atom;
/// - the dynamo exporter's `pkg.torch.onnx.name_scopes` metadata, trusted only when
///   `pkg.torch.onnx.class_hierarchy` says the innermost module is a convolution or Linear: after
///   the exporter folds a BatchNormalization into a Conv, the fused node carries the *BN*'s scope.
///
/// Every place that yields a path must yield the same one; a disagreement or no path at all is
/// an error naming the node and what each place held, never a guess.
public struct TorchModulePaths: Sendable {
    /// Which place the path was read from (recorded in the export, for people checking it).
    public enum Source: String, Sendable {
        case initializer, nodeName, metadata
    }

    public struct Mapping: Sendable, Equatable {
        public var module: String
        public var sources: [Source]
    }

    let onnx: ONNXGraph
    let names: ONNXNames
    /// ONNX node index of each node output name.
    let nodeOfOutput: [String: Int]

    public init(model: ONNXModel) {
        onnx = model.graph
        names = ONNXNames(model.graph)
        var nodeOfOutput: [String: Int] = [:]
        for (i, node) in model.graph.nodes.enumerated() { if let o = node.outputs.first { nodeOfOutput[o] = i } }
        self.nodeOfOutput = nodeOfOutput
    }

    /// The module whose layer `node` of `graph` (imported from this model) is.
    ///
    /// - Throws: `PruningError` naming the node and what each place held, when no place names a
    ///   module or two places name different ones.
    public func module(of node: Node, in graph: Graph) throws(PruningError) -> Mapping {
        guard let index = nodeOfOutput[graph.values[node.outputs[0]].name] else {
            throw PruningError("no ONNX node produces '\(graph.values[node.outputs[0]].name)'", node: node.name)
        }
        let onnxNode = onnx.nodes[index]
        var found: [(Source, String)] = []
        var why: [String] = []
        let weight = onnxNode.inputs.count > 1 ? names.root(onnxNode.inputs[1]) : ""
        if let path = Self.moduleOfParameter(weight) {
            found.append((.initializer, path))
        } else {
            why.append("its weight '\(weight)' is not a state-dict name `<module>.weight`"
                       + (weight.hasPrefix("onnx::") ? " (a constant the exporter computed, as when it folds a BatchNormalization into the weight)" : ""))
        }
        switch Self.moduleOfScope(onnxNode.name, opType: onnxNode.opType) {
        case .success(let path): found.append((.nodeName, path))
        case .failure(let reason): why.append(reason.description)
        }
        switch Self.moduleOfMetadata(onnxNode.metadata) {
        case .success(let path): found.append((.metadata, path))
        case .failure(let reason): why.append(reason.description)
        }
        let label = "\(onnxNode.name) (\(onnxNode.opType))"
        guard let first = found.first else {
            throw PruningError("cannot name its PyTorch module: " + why.joined(separator: "; "), node: label)
        }
        if let other = found.first(where: { $0.1 != first.1 }) {
            throw PruningError("its \(first.0.rawValue) names the module '\(first.1)' but its \(other.0.rawValue) names '\(other.1)'", node: label)
        }
        return Mapping(module: first.1, sources: found.map(\.0))
    }

    /// `layer1.0.conv1` for `layer1.0.conv1.weight`; nil for any other name.
    public static func moduleOfParameter(_ name: String) -> String? {
        guard name.hasSuffix(".weight") else { return nil }
        let path = String(name.dropLast(".weight".count))
        return isModulePath(path) ? path : nil
    }

    /// A dotted path of Python identifiers and indices (`features.1.conv.0.0`).
    static func isModulePath(_ path: String) -> Bool {
        let atoms = path.split(separator: ".", omittingEmptySubsequences: false)
        return !atoms.isEmpty && atoms.allSatisfy { atom in
            guard let head = atom.first else { return false }
            if atom.allSatisfy(\.isASCIIDigit) { return true }
            return (head == "_" || head.isASCIILetter) && atom.allSatisfy { $0 == "_" || $0.isASCIILetter || $0.isASCIIDigit }
        }
    }

    /// The TorchScript exporter's scope name `/features/features.1/conv/conv.0/conv.0.0/Conv`:
    /// each scope after the first is a child of the one before, written as its qualified name
    /// cut to the last non-numeric atom (`conv.0.0` for `features.1.conv.0.0`). The full path
    /// is rebuilt scope by scope and each step checked to cut back to the scope written, so a
    /// name that was not made this way is refused rather than misread.
    public static func moduleOfScope(_ name: String, opType: String) -> Result<String, ScopeError> {
        let refusal = ScopeError("its node name '\(name)' is not a TorchScript module scope `/<module>/…/\(opType)`")
        guard name.hasPrefix("/") else { return .failure(refusal) }
        var scopes = name.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let last = scopes.popLast(), isOperatorName(last, opType: opType) else { return .failure(refusal) }
        guard !scopes.isEmpty else { return .failure(ScopeError("its node name '\(name)' puts it in the root module, not in a submodule")) }
        var path = ""
        for scope in scopes {
            guard isModulePath(scope), let atom = scope.split(separator: ".").last else { return .failure(refusal) }
            let candidate = path.isEmpty ? scope : path + "." + atom
            guard unqualified(candidate) == scope else { return .failure(refusal) }
            path = candidate
        }
        return .success(path)
    }

    /// `Conv`, `Conv_3`: the operator part the TorchScript exporter ends a node name with.
    static func isOperatorName(_ text: String, opType: String) -> Bool {
        guard text.hasPrefix(opType) else { return false }
        let rest = text.dropFirst(opType.count)
        return rest.isEmpty || (rest.first == "_" && rest.count > 1 && rest.dropFirst().allSatisfy(\.isASCIIDigit))
    }

    /// A qualified name from its last non-numeric atom on (`features.1.conv.0.0` → `conv.0.0`;
    /// all-numeric names stay whole), as the TorchScript exporter writes scopes.
    static func unqualified(_ path: String) -> String {
        let atoms = path.split(separator: ".")
        guard let i = atoms.lastIndex(where: { !$0.allSatisfy(\.isASCIIDigit) }) else { return path }
        return atoms[i...].joined(separator: ".")
    }

    /// The dynamo exporter's metadata: the innermost module of `pkg.torch.onnx.name_scopes`
    /// (the entry before the last, which is the FX node), when `pkg.torch.onnx.class_hierarchy`
    /// says that module is a `torch.nn` convolution or Linear.
    public static func moduleOfMetadata(_ metadata: [ONNXMetadataEntry]) -> Result<String, ScopeError> {
        let entries = Dictionary(metadata.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        guard let scopes = entries["pkg.torch.onnx.name_scopes"].map(pythonStrings),
              let classes = entries["pkg.torch.onnx.class_hierarchy"].map(pythonStrings) else {
            return .failure(ScopeError("it has no pkg.torch.onnx.name_scopes metadata"))
        }
        guard scopes.count >= 2, classes.count == scopes.count else {
            return .failure(ScopeError("its pkg.torch.onnx metadata does not name a module"))
        }
        let (module, kind) = (scopes[scopes.count - 2], classes[classes.count - 2])
        let layerClasses = ["torch.nn.modules.conv.Conv1d", "torch.nn.modules.conv.Conv2d", "torch.nn.modules.conv.Conv3d",
                            "torch.nn.modules.linear.Linear"]
        guard layerClasses.contains(kind) else {
            return .failure(ScopeError("its metadata scope '\(module)' is a \(kind), not a convolution or Linear (the exporter fused this node into another)"))
        }
        guard isModulePath(module) else { return .failure(ScopeError("its metadata scope '\(module)' is not a module path")) }
        return .success(module)
    }

    /// The strings of a Python list literal (`['', 'layer1', 'layer1.0']`), as the exporter writes them.
    static func pythonStrings(_ text: String) -> [String] {
        var result: [String] = []
        var current: String? = nil
        var quote: Character = "'"
        for c in text {
            if var s = current {
                if c == quote { result.append(s); current = nil } else { s.append(c); current = s }
            } else if c == "'" || c == "\"" {
                quote = c
                current = ""
            }
        }
        return result
    }

    /// Why one place does not name a module (joined into the error when none does).
    public struct ScopeError: Error, CustomStringConvertible, Sendable {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
    fileprivate var isASCIILetter: Bool { isASCII && isLetter }
}
