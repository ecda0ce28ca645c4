//! The alignment objectives (SPEC.md section 2): pure functions of log-probability tensors.
