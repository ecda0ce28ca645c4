//! Providers of the dataset builders' roles (`crate::data::agents`) beyond the embedded world's
//! oracle: the target model itself as a [`Generator`](crate::data::agents::Generator), and a
//! replay of samples already drawn (so every builder sees the same samples of the target).

pub mod model;
pub mod replay;
