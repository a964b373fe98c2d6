//! `drydock token create|list|revoke`: API tokens for scripts and CI. Creating one needs a
//! user's password (`DRYDOCK_USER`, `DRYDOCK_PASSWORD`); the token is printed once.

use super::call;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

#[derive(Args, Debug, Clone)]
pub struct At {
    /// The Drydock server to talk to.
    #[arg(long, env = "DRYDOCK_SERVER", default_value = "http://127.0.0.1:3000")]
    pub server: String,
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token (printed once: keep it; only its hash is stored).
    Create {
        #[command(flatten)]
        at: At,
        /// viewer, operator or admin (at most your own role where the token applies).
        #[arg(long)]
        role: String,
        /// Only this fleet (every fleet otherwise).
        #[arg(long = "fleet-name", short = 'f')]
        fleet: Option<String>,
        /// Days until it expires (1 to 3650; 90 when not given).
        #[arg(long)]
        expires_in_days: Option<u32>,
        /// What it is for, for whoever lists tokens later.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Your tokens (an admin of every fleet sees everyone's).
    List(At),
    /// Revoke a token by its name (`tok-…`, from `drydock token list`).
    Revoke {
        #[command(flatten)]
        at: At,
        #[arg(long, short = 'n')]
        name: String,
    },
}

pub fn token(command: TokenCommand) -> anyhow::Result<Value> {
    match command {
        TokenCommand::Create {
            at,
            role,
            fleet,
            expires_in_days,
            description,
        } => {
            let mut properties = json!({"role": role, "description": description});
            if let Some(fleet) = fleet {
                properties["fleet"] = json!(fleet);
            }
            if let Some(days) = expires_in_days {
                properties["expiresInDays"] = json!(days);
            }
            call(
                &at.server,
                "POST",
                "/api/v1/tokens",
                Some(json!({ "properties": properties })),
            )
        }
        TokenCommand::List(at) => call(&at.server, "GET", "/api/v1/tokens", None),
        TokenCommand::Revoke { at, name } => {
            call(
                &at.server,
                "DELETE",
                &format!("/api/v1/tokens/{name}"),
                None,
            )?;
            Ok(Value::Null)
        }
    }
}
