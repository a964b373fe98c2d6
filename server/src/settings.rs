//! `drydock.toml` (`drydock serve --config`, `DRYDOCK_CONFIG`): the providers Drydock drives
//! besides the simulator, and their settings. Everything is checked when the server starts, so
//! a typo is a clear error at once rather than a run failing at 3 a.m.; secrets are read from
//! environment variables or files the configuration names, never written in it, and never
//! shown by any API, page or log line.

mod aks;
mod oidc;

pub use aks::{AksSettings, AzureCredential};
use anyhow::{Context, bail};
pub use oidc::{OidcSettings, RoleMapping, check_url};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The whole file.
#[derive(Debug, Default)]
pub struct Settings {
    pub providers: Vec<ProviderSettings>,
    /// Single sign-on, when `[oidc]` is there.
    pub oidc: Option<OidcSettings>,
}

#[derive(Debug)]
pub enum ProviderSettings {
    Exec(ExecSettings),
    Aks(AksSettings),
}

impl ProviderSettings {
    pub fn name(&self) -> &str {
        match self {
            ProviderSettings::Exec(exec) => &exec.name,
            ProviderSettings::Aks(aks) => &aks.name,
        }
    }
}

/// Where a secret comes from. Its value is read when it is needed (a file may be rotated).
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    Env(String),
    File(PathBuf),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::Env(var) => write!(f, "env:{var}"),
            SecretSource::File(path) => write!(f, "file:{}", path.display()),
        }
    }
}

impl SecretSource {
    /// The secret's value now; the error names where it was looked for, never a value.
    pub fn read(&self) -> Result<String, String> {
        match self {
            SecretSource::Env(var) => std::env::var(var)
                .map_err(|_| format!("environment variable {var} is not set (or not UTF-8)")),
            SecretSource::File(path) => std::fs::read_to_string(path)
                .map(|text| text.trim_end_matches(['\n', '\r']).to_owned())
                .map_err(|e| format!("secret file {} cannot be read: {e}", path.display())),
        }
    }
}

/// A provider that runs a command for each call (`docs/providers.md`).
#[derive(Debug, Clone)]
pub struct ExecSettings {
    pub name: String,
    /// The program and its first arguments; the verb is appended.
    pub command: Vec<String>,
    /// Past this, a call is killed and counts as transient.
    pub timeout: Duration,
    /// Calls at once.
    pub max_parallel: usize,
    /// Clusters per `observe` call; more are split into several calls.
    pub max_batch: usize,
    pub poll_interval: Duration,
    pub observation_ttl: Duration,
    pub catalog_ttl: Duration,
    pub attempt_timeout: Duration,
    pub backoff_cap: Duration,
    /// Plain settings passed in the command's environment.
    pub env: BTreeMap<String, String>,
    /// Secrets passed in the command's environment, by variable name.
    pub secrets: BTreeMap<String, SecretSource>,
}

/// What a `[[providers]]` table says, before it is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExec {
    name: String,
    command: Vec<String>,
    #[serde(default = "defaults::timeout")]
    timeout_seconds: u64,
    #[serde(default = "defaults::max_parallel")]
    max_parallel: usize,
    #[serde(default = "defaults::max_batch")]
    max_batch: usize,
    #[serde(default = "defaults::poll_interval")]
    poll_interval_seconds: u64,
    #[serde(default = "defaults::observation_ttl")]
    observation_ttl_seconds: u64,
    #[serde(default = "defaults::catalog_ttl")]
    catalog_ttl_seconds: u64,
    #[serde(default = "defaults::attempt_timeout")]
    attempt_timeout_seconds: u64,
    #[serde(default = "defaults::backoff_cap")]
    backoff_cap_seconds: u64,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    secrets: BTreeMap<String, RawSecret>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSecret {
    env: Option<String>,
    file: Option<PathBuf>,
}

mod defaults {
    pub fn timeout() -> u64 {
        60
    }
    pub fn max_parallel() -> usize {
        8
    }
    pub fn max_batch() -> usize {
        100
    }
    pub fn poll_interval() -> u64 {
        30
    }
    pub fn observation_ttl() -> u64 {
        30
    }
    pub fn catalog_ttl() -> u64 {
        600
    }
    pub fn attempt_timeout() -> u64 {
        3 * 3600
    }
    pub fn backoff_cap() -> u64 {
        120
    }
}

impl Settings {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the configuration {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in the configuration {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let table: toml::Table = toml::from_str(text)?;
        let mut providers = Vec::new();
        let mut oidc = None;
        for (key, value) in table {
            match (key.as_str(), value) {
                ("providers", toml::Value::Array(list)) => {
                    for (i, entry) in list.into_iter().enumerate() {
                        let provider = provider(entry)
                            .with_context(|| format!("[[providers]] number {}", i + 1))?;
                        if providers
                            .iter()
                            .any(|p: &ProviderSettings| p.name() == provider.name())
                        {
                            bail!("two providers are named {}", provider.name());
                        }
                        providers.push(provider);
                    }
                }
                ("providers", _) => bail!("providers must be an array of tables ([[providers]])"),
                ("oidc", toml::Value::Table(table)) => {
                    oidc = Some(oidc::oidc(table.try_into().context("[oidc]")?)?);
                }
                ("oidc", _) => bail!("oidc must be a table ([oidc])"),
                (other, _) => bail!("unknown setting {other} (expected [[providers]] or [oidc])"),
            }
        }
        Ok(Self { providers, oidc })
    }
}

fn provider(entry: toml::Value) -> anyhow::Result<ProviderSettings> {
    let toml::Value::Table(mut table) = entry else {
        bail!("a provider must be a table");
    };
    let kind = match table.remove("kind") {
        Some(toml::Value::String(kind)) => kind,
        Some(_) => bail!("kind must be a string"),
        None => bail!("kind is missing (kind = \"exec\" or \"aks\")"),
    };
    match kind.as_str() {
        "exec" => {
            let raw: RawExec = table.try_into()?;
            Ok(ProviderSettings::Exec(exec(raw)?))
        }
        "aks" => {
            let raw: aks::RawAks = table.try_into()?;
            Ok(ProviderSettings::Aks(aks::aks(raw)?))
        }
        other => bail!("unknown provider kind {other:?} (known: \"exec\", \"aks\")"),
    }
}

/// Provider names appear in cluster ids (`exec:{name}/{cluster}`) and URLs.
/// Where a secret is, from `{ env = "VAR" }` or `{ file = "/path" }`.
fn secret_source(what: &str, raw: &RawSecret) -> anyhow::Result<SecretSource> {
    match (&raw.env, &raw.file) {
        (Some(env), None) => Ok(SecretSource::Env(env.clone())),
        (None, Some(file)) => Ok(SecretSource::File(file.clone())),
        _ => bail!("secret {what} needs exactly one of env = \"VAR\" or file = \"/path\""),
    }
}

fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = (1..=40).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
    if !ok {
        bail!(
            "provider name {name:?} must be 1 to 40 lower-case letters, digits or '-', starting with a letter"
        );
    }
    if name == "sim" {
        bail!("provider name \"sim\" is the simulator's");
    }
    Ok(())
}

fn in_range<T: PartialOrd + std::fmt::Display>(
    what: &str,
    value: T,
    low: T,
    high: T,
) -> anyhow::Result<T> {
    if value < low || value > high {
        bail!("{what} must be between {low} and {high}, not {value}");
    }
    Ok(value)
}

fn env_name_ok(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

fn exec(raw: RawExec) -> anyhow::Result<ExecSettings> {
    check_name(&raw.name)?;
    let context = || format!("provider {}", raw.name);
    (|| {
        let Some(program) = raw.command.first() else {
            bail!("command is empty; it names the program to run, e.g. [\"/opt/lab/provider\"]");
        };
        if program.contains('/') && !Path::new(program).is_file() {
            bail!("command {program} does not exist");
        }
        let secs = Duration::from_secs;
        let mut secrets = BTreeMap::new();
        for (var, source) in raw.secrets {
            if !env_name_ok(&var) {
                bail!("secret {var:?} is not an environment variable name");
            }
            let source = secret_source(&var, &source)?;
            // Checked now so a missing secret stops the start, not the first upgrade.
            source
                .read()
                .map_err(|why| anyhow::anyhow!("secret {var}: {why}"))?;
            secrets.insert(var, source);
        }
        if let Some(var) = raw.env.keys().find(|k| !env_name_ok(k)) {
            bail!("env {var:?} is not an environment variable name");
        }
        if let Some(var) = raw.env.keys().find(|k| secrets.contains_key(*k)) {
            bail!("{var} is both in env and in secrets");
        }
        Ok(ExecSettings {
            name: raw.name.clone(),
            command: raw.command.clone(),
            timeout: secs(in_range("timeout_seconds", raw.timeout_seconds, 1, 3600)?),
            max_parallel: in_range("max_parallel", raw.max_parallel, 1, 256)?,
            max_batch: in_range("max_batch", raw.max_batch, 1, 10_000)?,
            poll_interval: secs(in_range(
                "poll_interval_seconds",
                raw.poll_interval_seconds,
                1,
                3600,
            )?),
            observation_ttl: secs(in_range(
                "observation_ttl_seconds",
                raw.observation_ttl_seconds,
                0,
                3600,
            )?),
            catalog_ttl: secs(in_range(
                "catalog_ttl_seconds",
                raw.catalog_ttl_seconds,
                0,
                86_400,
            )?),
            attempt_timeout: secs(in_range(
                "attempt_timeout_seconds",
                raw.attempt_timeout_seconds,
                60,
                7 * 86_400,
            )?),
            backoff_cap: secs(in_range(
                "backoff_cap_seconds",
                raw.backoff_cap_seconds,
                1,
                3600,
            )?),
            env: raw.env.clone(),
            secrets,
        })
    })()
    .with_context(context)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        format!("{:#}", Settings::parse(text).unwrap_err())
    }

    #[test]
    fn an_exec_provider_with_defaults() {
        let settings = Settings::parse(
            r#"
            [[providers]]
            name = "lab"
            kind = "exec"
            command = ["provider", "--verbose"]
            "#,
        )
        .unwrap();
        let ProviderSettings::Exec(lab) = &settings.providers[0] else {
            panic!()
        };
        assert_eq!(lab.command, ["provider", "--verbose"]);
        assert_eq!(lab.timeout, Duration::from_secs(60));
        assert_eq!(lab.max_parallel, 8);
        assert_eq!(lab.attempt_timeout, Duration::from_secs(3 * 3600));
    }

    #[test]
    fn mistakes_are_named() {
        let base = "[[providers]]\nname = \"lab\"\nkind = \"exec\"\ncommand = [\"p\"]\n";
        assert!(error(&format!("{base}comand = []")).contains("unknown field `comand`"));
        assert!(error(&format!("{base}timeout_seconds = 0")).contains("timeout_seconds"));
        assert!(error("[[providers]]\nname = \"lab\"\ncommand = [\"p\"]").contains("kind"));
        assert!(
            error("[[providers]]\nname = \"Lab\"\nkind = \"exec\"\ncommand = [\"p\"]")
                .contains("lower-case")
        );
        assert!(
            error("[[providers]]\nname = \"sim\"\nkind = \"exec\"\ncommand = [\"p\"]")
                .contains("simulator")
        );
        assert!(error(&format!("{base}{base}")).contains("two providers"));
        assert!(
            error("[[providers]]\nname = \"lab\"\nkind = \"exec\"\ncommand = []").contains("empty")
        );
        assert!(
            error("[[providers]]\nname = \"x\"\nkind = \"exec\"\ncommand = [\"/no/such/program\"]")
                .contains("does not exist")
        );
        assert!(error("listen = 1").contains("unknown setting"));
    }

    #[test]
    fn secrets_are_checked_at_load_and_never_printed() {
        let base = "[[providers]]\nname = \"lab\"\nkind = \"exec\"\ncommand = [\"p\"]\n";
        let missing = error(&format!(
            "{base}[providers.secrets]\nTOKEN = {{ env = \"DRYDOCK_TEST_SURELY_UNSET\" }}"
        ));
        assert!(missing.contains("DRYDOCK_TEST_SURELY_UNSET"), "{missing}");
        let dir = crate::test_support::ScratchDir::new("secret");
        let secret = dir.join("token");
        std::fs::write(&secret, "s3cr3t-value\n").unwrap();
        let settings = Settings::parse(&format!(
            "{base}[providers.secrets]\nTOKEN = {{ file = \"{}\" }}",
            secret.display()
        ))
        .unwrap();
        let ProviderSettings::Exec(lab) = &settings.providers[0] else {
            panic!()
        };
        assert_eq!(lab.secrets["TOKEN"].read().unwrap(), "s3cr3t-value");
        assert!(
            !format!("{settings:?}").contains("s3cr3t"),
            "Debug shows where, not what"
        );
    }
}
