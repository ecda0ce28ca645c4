//! The embedded synthetic world: task families, scorers, oracle reviser/judge, weaker generators.
