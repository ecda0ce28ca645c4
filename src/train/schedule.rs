//! Learning-rate schedules, as Hugging Face's `get_linear_schedule_with_warmup` and
//! `get_constant_schedule_with_warmup`: for the first `warmup` updates the rate climbs linearly
//! from 0 (`lr * s / warmup` for update `s`, 0-based); then the linear schedule decays it as
//! `lr * (total - s) / (total - warmup)`, reaching 0 after the last update, and the constant one
//! holds it. With no warm-up (the paper's setting) update 0 runs at the full rate.
//!
//! Why warm-up matters here: RMSProp as PyTorch implements it (no bias correction) starts its
//! squared-gradient average at 0, so its first steps are up to `1 / sqrt(1 - alpha)` = 10 times
//! the rate. Warm-up keeps those first steps small, which is what lets a larger rate train
//! without the early jump that makes the model forget.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// Decays linearly to 0 over all updates (the paper's).
    #[default]
    Linear,
    Constant,
}

impl Schedule {
    /// The rate of update `update` (0-based) of `total`, the first `warmup` of which warm up.
    pub fn rate(self, base: f64, update: usize, total: usize, warmup: usize) -> f64 {
        if update < warmup {
            return base * update as f64 / warmup as f64;
        }
        match self {
            Schedule::Constant => base,
            Schedule::Linear if total <= warmup => base,
            Schedule::Linear => base * (total.saturating_sub(update)) as f64 / (total - warmup) as f64,
        }
    }
}

/// Hugging Face's `warmup_ratio`: the warm-up is `ceil(ratio * total)` updates.
pub fn warmup_updates(ratio: f64, total: usize) -> usize {
    (ratio * total as f64).ceil() as usize
}

#[cfg(test)]
mod tests {
    use super::{Schedule, warmup_updates};

    #[test]
    fn linear_decay_starts_at_the_base_rate_and_ends_near_zero() {
        let total = 4;
        let rates: Vec<f64> = (0..total).map(|s| Schedule::Linear.rate(2.0, s, total, 0)).collect();
        assert_eq!(rates, vec![2.0, 1.5, 1.0, 0.5]);
        assert_eq!(Schedule::Linear.rate(2.0, total, total, 0), 0.0);
        assert_eq!(Schedule::Constant.rate(2.0, 3, total, 0), 2.0);
    }

    /// The values `transformers.get_linear_schedule_with_warmup(opt, 2, 6)` gives for lr 1.0:
    /// 0, 0.5, 1.0, 0.75, 0.5, 0.25.
    #[test]
    fn warmup_climbs_from_zero_then_decays_as_hugging_face_does() {
        let rates: Vec<f64> = (0..6).map(|s| Schedule::Linear.rate(1.0, s, 6, 2)).collect();
        assert_eq!(rates, vec![0.0, 0.5, 1.0, 0.75, 0.5, 0.25]);
        let constant: Vec<f64> = (0..4).map(|s| Schedule::Constant.rate(1.0, s, 4, 2)).collect();
        assert_eq!(constant, vec![0.0, 0.5, 1.0, 1.0]);
        assert_eq!((warmup_updates(0.1, 216), warmup_updates(0.0, 216), warmup_updates(0.1, 5)), (22, 0, 1));
    }
}
