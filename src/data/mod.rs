//! Preference triples, dataset builders, filters and contrastiveness metrics (SPEC.md section 1).
