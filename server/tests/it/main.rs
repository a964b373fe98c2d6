//! The server's integration tests, one binary for all of them: each test binary links the whole
//! server (Leptos, axum, sqlx), so thirteen of them cost thirteen links and gigabytes of disk.
//! Every module is one area, run with `cargo test -p server --test it <module>::`.

mod common;

mod access;
mod access_matrix;
mod aks_provider;
mod audit;
mod auto_upgrade;
mod bad_input;
mod bench;
mod browser_guard;
mod catch_up;
mod cli_walkthrough;
mod cluster_leases;
mod compression;
mod crash;
mod defer;
mod demo_and_restart;
mod eks_example;
mod exec_provider;
mod gates;
mod hops;
mod limits;
mod logs;
mod members_kept;
mod metrics;
mod openapi;
mod pages;
mod passes;
mod placement_runs;
mod placements;
mod portable;
mod provider_faults;
mod replicas;
mod replicas_killed;
mod resources;
mod rest_fleets;
mod rest_members;
mod rest_preconditions;
mod rest_runs;
mod rest_simulator;
mod rest_strategies;
mod rollouts;
mod run_identity;
mod runs_runtime;
mod server_functions;
mod server_functions_runs;
mod simulator_operations;
mod single_sign_on;
mod slow_clients;
mod store_backends;
mod stored_format;
mod tls;
mod traces;
mod webhooks;
