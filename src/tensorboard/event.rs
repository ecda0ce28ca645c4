//! The protobuf messages of an event file, the part of TensorBoard's `event.proto` and
//! `summary.proto` that scalars need. Field numbers and types are the `.proto` files'; the
//! `oneof`s there (`Event.what`, `Summary.Value.value`) are spelled as optional fields here,
//! which is the same on the wire. Derived with `prost` by hand, so no `protoc` is needed to build.

/// One record of an event file: the file's version (the first record), or a summary of
/// values at a step.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Event {
    /// Seconds since the Unix epoch.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// `brain.Event:2` in the first record of a file.
    #[prost(string, optional, tag = "3")]
    pub file_version: Option<String>,
    #[prost(message, optional, tag = "5")]
    pub summary: Option<Summary>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<Value>,
}

/// One tagged value; TensorBoard plots each tag's `simple_value`s over steps as a scalar chart.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Value {
    #[prost(string, tag = "1")]
    pub tag: String,
    #[prost(float, optional, tag = "2")]
    pub simple_value: Option<f32>,
}

/// The version every event file written since TensorFlow 1 declares.
pub const FILE_VERSION: &str = "brain.Event:2";

impl Event {
    /// The first record of a file.
    pub fn version_record(wall_time: f64) -> Event {
        Event { wall_time, step: 0, file_version: Some(FILE_VERSION.to_string()), summary: None }
    }

    /// Scalars at one step.
    pub fn scalars(wall_time: f64, step: i64, values: &[(String, f64)]) -> Event {
        let value = values.iter().map(|(tag, v)| Value { tag: tag.clone(), simple_value: Some(*v as f32) }).collect();
        Event { wall_time, step, file_version: None, summary: Some(Summary { value }) }
    }
}
