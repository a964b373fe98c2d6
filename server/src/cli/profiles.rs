//! `drydock autoupgradeprofile`, mirroring `az fleet autoupgradeprofile`: a fleet's standing
//! upgrade policy, and `generate-update-run` to make its run now.

use super::{Fleet, Named, call};
use clap::Subcommand;
use serde_json::{Value, json};

#[derive(Subcommand, Debug)]
pub enum ProfileCommand {
    /// Create or replace a profile.
    Create {
        #[command(flatten)]
        profile: Named,
        /// Stable, Rapid, NodeImage, TargetKubernetesVersion or SecurityPatch.
        #[arg(long)]
        channel: String,
        /// Latest (default) or Consistent.
        #[arg(long)]
        node_image_selection: Option<String>,
        /// With channel TargetKubernetesVersion: the minor to follow, e.g. 1.30.
        #[arg(long)]
        target_kubernetes_version: Option<String>,
        /// With a target version: keep following it under long-term support.
        #[arg(long, alias = "lts")]
        long_term_support: bool,
        /// The stored strategy generated runs go through (one member at a time without).
        #[arg(long)]
        update_strategy_name: Option<String>,
        /// Generate nothing on the schedule (generate-update-run still works).
        #[arg(long)]
        disabled: bool,
        /// Start generated runs at once (beyond Azure; their gates still ask).
        #[arg(long)]
        auto_start: bool,
    },
    Show(Named),
    List(Fleet),
    Delete(Named),
    /// Generate the run for what the channel offers now; prints its id.
    GenerateUpdateRun(Named),
}

pub fn auto_upgrade_profile(command: ProfileCommand) -> anyhow::Result<Value> {
    let path = |p: &Named| {
        format!(
            "/api/v1/fleets/{}/autoUpgradeProfiles/{}",
            p.at.fleet, p.name
        )
    };
    match command {
        ProfileCommand::Create {
            profile,
            channel,
            node_image_selection,
            target_kubernetes_version,
            long_term_support,
            update_strategy_name,
            disabled,
            auto_start,
        } => {
            let mut properties = json!({"channel": channel, "disabled": disabled,
                                        "longTermSupport": long_term_support, "autoStart": auto_start});
            if let Some(kind) = node_image_selection {
                properties["nodeImageSelection"] = json!({ "type": kind });
            }
            if let Some(version) = target_kubernetes_version {
                properties["targetKubernetesVersion"] = json!(version);
            }
            if let Some(strategy) = update_strategy_name {
                properties["updateStrategyId"] = json!(strategy);
            }
            let body = json!({ "properties": properties });
            call(&profile.at.server, "PUT", &path(&profile), Some(body))
        }
        ProfileCommand::Show(p) => call(&p.at.server, "GET", &path(&p), None),
        ProfileCommand::List(at) => call(
            &at.server,
            "GET",
            &format!("/api/v1/fleets/{}/autoUpgradeProfiles", at.fleet),
            None,
        ),
        ProfileCommand::Delete(p) => call(&p.at.server, "DELETE", &path(&p), None),
        ProfileCommand::GenerateUpdateRun(p) => call(
            &p.at.server,
            "POST",
            &format!("{}/generateUpdateRun", path(&p)),
            None,
        ),
    }
}
