//! placeholder
pub fn register(_r: &mut tributary_runtime::plugins::Registry) {}
