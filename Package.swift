// swift-tools-version:6.0
// WeakSpot: measured influence and structured pruning for CNNs. No package dependencies by design.
import PackageDescription

let package = Package(
    name: "WeakSpot",
    products: [
        .library(
            name: "WeakSpot",
            targets: ["Support", "ONNXFormat", "NetworkIR", "Linalg", "Execution", "DataInput", "ChannelGroups", "Pruning", "Quantization", "Influence", "Reporting", "Planning", "Gradients", "Training", "WeakSpotCLI"]),
        .executable(name: "weakspot", targets: ["weakspot"]),
    ],
    targets: [
        .target(name: "CKernels"),
        .target(name: "Support", dependencies: ["CKernels"]),
        .target(name: "Linalg", dependencies: ["CKernels", "Support"]),
        .target(name: "ONNXFormat"),
        .target(name: "NetworkIR", dependencies: ["ONNXFormat"]),
        .target(name: "Execution", dependencies: ["NetworkIR", "Linalg", "Support"]),
        .target(name: "ChannelGroups", dependencies: ["NetworkIR"]),
        .target(name: "Pruning", dependencies: ["ONNXFormat", "NetworkIR", "ChannelGroups", "Support"]),
        .target(name: "Quantization", dependencies: ["ONNXFormat", "NetworkIR", "Execution", "ChannelGroups", "Support"]),
        .target(name: "Planning", dependencies: ["ONNXFormat", "NetworkIR", "Execution", "ChannelGroups", "Influence", "Pruning", "Quantization", "DataInput", "Training", "Support"]),
        .target(name: "Influence", dependencies: ["NetworkIR", "Execution", "ChannelGroups", "Gradients", "Quantization", "Support"]),
        .target(name: "Reporting", dependencies: ["Influence", "Planning", "Support"]),
        .target(name: "DataInput", dependencies: ["Support"]),
        .target(name: "Gradients", dependencies: ["NetworkIR", "Execution", "Linalg", "Support"]),
        .target(name: "Training", dependencies: ["ONNXFormat", "NetworkIR", "Execution", "Gradients", "Influence", "Pruning", "Support"]),
        .target(name: "WeakSpotCLI", dependencies: ["ONNXFormat", "NetworkIR", "Execution", "DataInput", "Linalg", "ChannelGroups", "Influence", "Pruning", "Quantization", "Planning", "Gradients", "Training", "Reporting", "Support"]),
        .executableTarget(name: "weakspot", dependencies: ["WeakSpotCLI"]),
        // Fuzz driver: replays corpora in a normal build; libFuzzer entry point only when built by
        // Tests/Fuzz/run_fuzz.sh (docs/reliability.md).
        .executableTarget(name: "weakspot-fuzz", dependencies: ["WeakSpotCLI"]),
        .target(name: "TestSupport", path: "Tests/Support"),
        .testTarget(name: "SupportTests", dependencies: ["Support"]),
        .testTarget(name: "LinalgTests", dependencies: ["Linalg", "TestSupport"]),
        .testTarget(name: "ONNXFormatTests", dependencies: ["ONNXFormat", "TestSupport"]),
        .testTarget(name: "ExecutionTests", dependencies: ["Execution", "NetworkIR", "ONNXFormat", "DataInput", "TestSupport"]),
        .testTarget(name: "InfluenceTests", dependencies: ["Influence", "Reporting", "Gradients", "ChannelGroups", "Execution", "NetworkIR", "ONNXFormat", "DataInput", "Support", "TestSupport"]),
        .testTarget(name: "PlanningTests", dependencies: ["Planning", "Quantization", "Pruning", "Influence", "ChannelGroups", "Execution", "NetworkIR", "ONNXFormat", "DataInput", "Training", "Support", "TestSupport"]),
        .testTarget(name: "PruningTests", dependencies: ["Pruning", "Influence", "ChannelGroups", "Execution", "NetworkIR", "ONNXFormat", "DataInput", "Support", "TestSupport"]),
        .testTarget(name: "GradientsTests", dependencies: ["Gradients", "Influence", "NetworkIR", "ONNXFormat", "DataInput", "Support", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Pruning", "Execution", "NetworkIR", "ONNXFormat", "DataInput", "Support", "TestSupport"]),
        .testTarget(name: "DataInputTests", dependencies: ["DataInput", "TestSupport"]),
        .testTarget(name: "QuantizationTests", dependencies: ["Quantization", "Execution", "NetworkIR", "ONNXFormat", "DataInput", "TestSupport"]),
        .testTarget(name: "WeakSpotCLITests", dependencies: ["WeakSpotCLI", "Influence", "ChannelGroups", "NetworkIR", "ONNXFormat", "DataInput", "Planning", "Quantization", "Reporting", "Support", "TestSupport"]),
    ]
)
