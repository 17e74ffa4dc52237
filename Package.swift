// swift-tools-version:6.0
// WeakSpot: measured influence and structured pruning for CNNs. No package dependencies by design.
import PackageDescription

let package = Package(
    name: "WeakSpot",
    products: [
        .library(
            name: "WeakSpot",
            targets: ["Support", "ONNXFormat", "NetworkIR", "Linalg", "Execution", "DataInput", "ChannelGroups", "Pruning", "Influence", "Planning", "Gradients", "Training", "WeakSpotCLI"]),
        .executable(name: "weakspot", targets: ["weakspot"]),
    ],
    targets: [
        .target(name: "CKernels"),
        // The bottom module every stage may import: option declarations (Options/).
        .target(name: "Support"),
        .target(name: "Linalg", dependencies: ["CKernels"]),
        .target(name: "ONNXFormat"),
        .target(name: "NetworkIR", dependencies: ["ONNXFormat"]),
        .target(name: "Execution", dependencies: ["NetworkIR", "Linalg"]),
        .target(name: "ChannelGroups", dependencies: ["NetworkIR"]),
        .target(name: "Pruning", dependencies: ["Support", "ONNXFormat", "NetworkIR", "ChannelGroups"]),
        .target(name: "Planning", dependencies: ["Support", "ONNXFormat", "NetworkIR", "Execution", "ChannelGroups", "Influence", "Pruning", "DataInput"]),
        .target(name: "Influence", dependencies: ["Support", "NetworkIR", "Execution", "ChannelGroups", "DataInput", "Linalg", "Gradients"]),
        .target(name: "DataInput", dependencies: ["Linalg"]),
        .target(name: "Gradients", dependencies: ["NetworkIR", "Execution", "Linalg"]),
        .target(name: "Training", dependencies: ["Support", "NetworkIR", "Execution", "Gradients", "Influence", "Pruning", "ONNXFormat"]),
        .target(name: "WeakSpotCLI", dependencies: ["Support", "ONNXFormat", "NetworkIR", "Execution", "DataInput", "Linalg", "ChannelGroups", "Influence", "Pruning", "Planning", "Gradients", "Training"]),
        .executableTarget(name: "weakspot", dependencies: ["WeakSpotCLI"]),
        // Fuzz driver: replays corpora in a normal build; libFuzzer entry point only when built by
        // Tests/Fuzz/run_fuzz.sh (docs/reliability.md).
        .executableTarget(name: "weakspot-fuzz", dependencies: ["WeakSpotCLI"]),
        .target(name: "TestSupport", path: "Tests/Support"),
        .testTarget(name: "LinalgTests", dependencies: ["Linalg", "TestSupport"]),
        .testTarget(name: "ONNXFormatTests", dependencies: ["ONNXFormat", "TestSupport"]),
        .testTarget(name: "ExecutionTests", dependencies: ["Execution", "NetworkIR", "ONNXFormat", "DataInput", "TestSupport"]),
        .testTarget(name: "InfluenceTests", dependencies: ["Support", "Influence", "Gradients", "ChannelGroups", "Execution", "NetworkIR", "ONNXFormat", "DataInput", "TestSupport"]),
        .testTarget(name: "PlanningTests", dependencies: ["Support", "Planning", "Pruning", "Influence", "ChannelGroups", "Execution", "NetworkIR", "ONNXFormat", "DataInput", "TestSupport"]),
        .testTarget(name: "PruningTests", dependencies: ["Pruning", "Influence", "ChannelGroups", "Execution", "NetworkIR", "ONNXFormat", "DataInput", "TestSupport"]),
        .testTarget(name: "GradientsTests", dependencies: ["Gradients", "Influence", "Execution", "NetworkIR", "ONNXFormat", "DataInput", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Gradients", "Pruning", "Execution", "NetworkIR", "ONNXFormat", "TestSupport"]),
        .testTarget(name: "DataInputTests", dependencies: ["DataInput", "TestSupport"]),
        .testTarget(name: "WeakSpotCLITests", dependencies: ["Support", "WeakSpotCLI", "Influence", "Planning", "ChannelGroups", "NetworkIR", "ONNXFormat", "TestSupport"]),
    ]
)
