import Foundation

/// The learning rate as a function of the update step.
public enum LearningRateSchedule: String, Sendable, CaseIterable, Codable {
    /// The base rate throughout (PyTorch's default without a scheduler).
    case constant
    /// Cosine decay from the base rate to 0 over all steps, per step (`CosineAnnealingLR` with
    /// `T_max` = total steps, `eta_min` = 0): the usual choice for short recovery runs.
    case cosine

    /// The rate for update `step` (0-based) of `totalSteps`.
    public func rate(base: Float, step: Int, totalSteps: Int) -> Float {
        switch self {
        case .constant:
            return base
        case .cosine:
            guard totalSteps > 0 else { return base }
            let t = Double(min(step, totalSteps)) / Double(totalSteps)
            return Float(Double(base) * 0.5 * (1 + Foundation.cos(Double.pi * t)))
        }
    }
}
