//! This workspace's tests, benchmarks and demo: the kit (`kea_hooks_test`,
//! in `tests/kit`, re-exported here) plus what only this repository needs
//! (building its binaries, C++ fixtures and benchmark driver, kea-exporter,
//! its Grafana dashboard).

#![warn(missing_docs)]

pub use kea_hooks_test::*;

mod build;
pub mod grafana;
mod kea_exporter;

pub use build::{build_bench_fixtures, build_bin, build_cpp_hook, callgrind_per_callout, workspace_root};
pub use grafana::{dashboard_metric_names, dashboard_path};
pub use kea_exporter::{kea_exporter_venv, KeaExporter, KEA_EXPORTER_VERSION};
