/// How `--recalibrate N` brings a pruned model's statistics back (docs/recalibration.md), for
/// `plan` (its verification) and `prune` (the constants it writes).
public enum RecalibrationRule: String, Sendable, CaseIterable, Equatable {
    /// Re-estimate every BatchNormalization's running statistics on N inputs (adaptive BN,
    /// PyTorch's `model.train()` with `momentum=None`). Needs BatchNormalization nodes.
    case estimate
    /// Give each layer downstream of the cut, per output channel, the mean and standard deviation
    /// the unpruned model's channel had on the same N inputs (an affine correction in the layer's
    /// constants). Works on models whose BatchNormalization was folded into the convolutions.
    case match

    /// `--recalibration`'s help, the same for every command that takes it.
    public static let help = "estimate (re-estimate BatchNormalization statistics) or match (each layer's output channels get the unpruned model's mean and deviation). Default: estimate when the model has BatchNormalization statistics, else match."

    /// The rule used when none is asked for: estimate where there are statistics to estimate.
    public static func resolve(_ asked: RecalibrationRule?, hasBatchNormStatistics: Bool) -> RecalibrationRule {
        asked ?? (hasBatchNormStatistics ? .estimate : .match)
    }
}
