//! Learning-rate schedules, as Hugging Face's `get_linear_schedule_with_warmup` without warmup:
//! the rate used for update `s` (0-based) of `total` is `lr * (total - s) / total`, reaching 0
//! after the last update.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// Decays linearly to 0 over all updates (the paper's).
    #[default]
    Linear,
    Constant,
}

impl Schedule {
    pub fn rate(self, base: f64, update: usize, total: usize) -> f64 {
        match self {
            Schedule::Constant => base,
            Schedule::Linear if total == 0 => base,
            Schedule::Linear => base * (total.saturating_sub(update)) as f64 / total as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Schedule;

    #[test]
    fn linear_decay_starts_at_the_base_rate_and_ends_near_zero() {
        let total = 4;
        let rates: Vec<f64> = (0..total).map(|s| Schedule::Linear.rate(2.0, s, total)).collect();
        assert_eq!(rates, vec![2.0, 1.5, 1.0, 0.5]);
        assert_eq!(Schedule::Linear.rate(2.0, total, total), 0.0);
        assert_eq!(Schedule::Constant.rate(2.0, 3, total), 2.0);
    }
}
