//! The typed connection flags of the event sink (TLS, mutual TLS, SASL) and `--kafka-config-file`, turned into
//! librdkafka properties under librdkafka's own names. Secrets are read from files (or, for the SASL password, an
//! environment variable), never from the command line, and never appear in an error message.

use std::path::{Path, PathBuf};

use herald_event_sink::config::KafkaProperty;

/// SASL mechanisms librdkafka supports with a username and password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SaslMechanism {
	/// Username and password in clear text inside the TLS connection (Confluent Cloud, Aiven, Redpanda Cloud).
	#[value(name = "PLAIN")]
	Plain,
	/// Salted challenge-response with SHA-256.
	#[value(name = "SCRAM-SHA-256")]
	ScramSha256,
	/// Salted challenge-response with SHA-512 (MSK's SCRAM).
	#[value(name = "SCRAM-SHA-512")]
	ScramSha512,
}

impl SaslMechanism {
	fn librdkafka_name(self) -> &'static str {
		match self {
			Self::Plain => "PLAIN",
			Self::ScramSha256 => "SCRAM-SHA-256",
			Self::ScramSha512 => "SCRAM-SHA-512",
		}
	}
}

/// The TLS and SASL flags, as parsed.
#[derive(Debug, Clone, Default)]
pub struct SecurityFlags {
	pub tls: bool,
	pub tls_ca_file: Option<PathBuf>,
	pub tls_cert_file: Option<PathBuf>,
	pub tls_key_file: Option<PathBuf>,
	pub tls_key_password_file: Option<PathBuf>,
	pub tls_skip_hostname_verification: bool,
	pub sasl_mechanism: Option<SaslMechanism>,
	pub sasl_username: Option<String>,
	pub sasl_password_file: Option<PathBuf>,
	pub sasl_password_env: Option<String>,
}

/// The librdkafka properties the flags stand for. Files are checked here, so a missing certificate fails the
/// node's start naming the flag and the file, not a background connection attempt later.
pub fn security_properties(flags: &SecurityFlags) -> Result<Vec<KafkaProperty>, String> {
	let mut properties = Vec::new();
	let mut set = |key: &str, value: String| properties.push(KafkaProperty { key: key.into(), value });
	let tls = flags.tls
		|| flags.tls_ca_file.is_some()
		|| flags.tls_cert_file.is_some()
		|| flags.tls_key_file.is_some()
		|| flags.tls_skip_hostname_verification;
	let sasl = flags.sasl_mechanism.is_some();
	if !sasl
		&& (flags.sasl_username.is_some() || flags.sasl_password_file.is_some() || flags.sasl_password_env.is_some())
	{
		return Err("--kafka-sasl-username and the SASL password need --kafka-sasl-mechanism (PLAIN, SCRAM-SHA-256 \
		            or SCRAM-SHA-512)"
			.into());
	}
	match (tls, sasl) {
		(false, false) => return Ok(Vec::new()),
		(true, false) => set("security.protocol", "SSL".into()),
		(true, true) => set("security.protocol", "SASL_SSL".into()),
		(false, true) => set("security.protocol", "SASL_PLAINTEXT".into()),
	}
	if let Some(path) = &flags.tls_ca_file {
		set("ssl.ca.location", readable("--kafka-tls-ca-file", path)?);
	}
	match (&flags.tls_cert_file, &flags.tls_key_file) {
		(Some(cert), Some(key)) => {
			set("ssl.certificate.location", readable("--kafka-tls-cert-file", cert)?);
			set("ssl.key.location", readable("--kafka-tls-key-file", key)?);
		}
		(None, None) => {}
		_ => {
			return Err("mutual TLS needs both --kafka-tls-cert-file (the client certificate, PEM) and \
			            --kafka-tls-key-file (its private key, PEM)"
				.into())
		}
	}
	if let Some(path) = &flags.tls_key_password_file {
		if flags.tls_key_file.is_none() {
			return Err("--kafka-tls-key-password-file is the password of --kafka-tls-key-file: give both".into());
		}
		set("ssl.key.password", secret_from_file("--kafka-tls-key-password-file", path)?);
	}
	// librdkafka verifies the broker's host name by default (since 1.9); say it explicitly, so an override shows.
	set(
		"ssl.endpoint.identification.algorithm",
		if flags.tls_skip_hostname_verification { "none" } else { "https" }.into(),
	);
	if let Some(mechanism) = flags.sasl_mechanism {
		set("sasl.mechanism", mechanism.librdkafka_name().into());
		let username = flags.sasl_username.clone().ok_or(
			"--kafka-sasl-mechanism needs --kafka-sasl-username (and the password from --kafka-sasl-password-file \
			 or --kafka-sasl-password-env)",
		)?;
		set("sasl.username", username);
		let password = match (&flags.sasl_password_file, &flags.sasl_password_env) {
			(Some(path), None) => secret_from_file("--kafka-sasl-password-file", path)?,
			(None, Some(variable)) => std::env::var(variable).map_err(|_| {
				format!("--kafka-sasl-password-env {variable}: the environment variable is not set (or not UTF-8)")
			})?,
			(None, None) => {
				return Err("SASL needs the password: --kafka-sasl-password-file PATH (a file holding only the \
				            password) or --kafka-sasl-password-env VARIABLE"
					.into())
			}
			(Some(_), Some(_)) => {
				return Err(
					"give the SASL password once: --kafka-sasl-password-file or --kafka-sasl-password-env".into()
				)
			}
		};
		set("sasl.password", password);
	}
	Ok(properties)
}

/// Reads `--kafka-config-file`: librdkafka properties as `key=value` lines (kcat's `-F` format); blank lines and
/// lines starting with `#` are ignored. Errors name the file and line, never the value (it may be a secret).
pub fn config_file(path: &Path) -> Result<Vec<KafkaProperty>, String> {
	let text = std::fs::read_to_string(path)
		.map_err(|e| format!("--kafka-config-file {}: cannot read it ({e})", path.display()))?;
	let mut properties = Vec::new();
	for (number, line) in text.lines().enumerate() {
		let line = line.trim();
		if line.is_empty() || line.starts_with('#') {
			continue;
		}
		match line.split_once('=') {
			Some((key, value)) if !key.trim().is_empty() => {
				properties.push(KafkaProperty { key: key.trim().into(), value: value.trim().into() })
			}
			_ => {
				return Err(format!(
					"--kafka-config-file {}, line {}: not a librdkafka property; write it as key=value",
					path.display(),
					number + 1
				))
			}
		}
	}
	Ok(properties)
}

/// The path as librdkafka wants it, once it is known to be a readable file.
fn readable(flag: &str, path: &Path) -> Result<String, String> {
	std::fs::File::open(path).map_err(|e| format!("{flag} {}: cannot read it ({e})", path.display()))?;
	path.to_str().map(str::to_string).ok_or_else(|| format!("{flag} {}: the path is not UTF-8", path.display()))
}

/// A secret held alone in a file (one trailing newline allowed, as `echo` writes it).
fn secret_from_file(flag: &str, path: &Path) -> Result<String, String> {
	let text = std::fs::read_to_string(path).map_err(|e| format!("{flag} {}: cannot read it ({e})", path.display()))?;
	let secret = text.strip_suffix('\n').map(|s| s.strip_suffix('\r').unwrap_or(s)).unwrap_or(&text);
	if secret.is_empty() {
		return Err(format!("{flag} {}: the file is empty", path.display()));
	}
	Ok(secret.to_string())
}

#[cfg(test)]
mod tests {
	use super::*;

	fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
		let path = dir.path().join(name);
		std::fs::write(&path, text).unwrap();
		path
	}

	fn get<'a>(properties: &'a [KafkaProperty], key: &str) -> Option<&'a str> {
		properties.iter().rev().find(|p| p.key == key).map(|p| p.value.as_str())
	}

	#[test]
	fn sasl_ssl_with_scram_maps_to_librdkafka_properties() {
		let dir = tempfile::tempdir().unwrap();
		let flags = SecurityFlags {
			tls_ca_file: Some(file(&dir, "ca.pem", "-----BEGIN CERTIFICATE-----")),
			sasl_mechanism: Some(SaslMechanism::ScramSha512),
			sasl_username: Some("herald".into()),
			sasl_password_file: Some(file(&dir, "password", "s3cret-value\n")),
			..Default::default()
		};
		let properties = security_properties(&flags).unwrap();
		assert_eq!(get(&properties, "security.protocol"), Some("SASL_SSL"));
		assert_eq!(get(&properties, "sasl.mechanism"), Some("SCRAM-SHA-512"));
		assert_eq!(get(&properties, "sasl.password"), Some("s3cret-value"), "the trailing newline is not part of it");
		assert_eq!(get(&properties, "ssl.endpoint.identification.algorithm"), Some("https"));
		assert!(!format!("{properties:?}").contains("s3cret-value"), "secrets never reach Debug output");
	}

	#[test]
	fn mutual_tls_needs_both_files_and_missing_files_are_named() {
		let dir = tempfile::tempdir().unwrap();
		let cert = file(&dir, "client.pem", "cert");
		let error = security_properties(&SecurityFlags { tls_cert_file: Some(cert.clone()), ..Default::default() })
			.unwrap_err();
		assert!(error.contains("--kafka-tls-key-file"), "{error}");
		let missing = dir.path().join("nope.key");
		let error = security_properties(&SecurityFlags {
			tls_cert_file: Some(cert),
			tls_key_file: Some(missing),
			..Default::default()
		})
		.unwrap_err();
		assert!(error.contains("--kafka-tls-key-file") && error.contains("nope.key"), "{error}");
	}

	#[test]
	fn sasl_without_a_password_or_with_an_empty_one_is_refused_without_echoing_secrets() {
		let dir = tempfile::tempdir().unwrap();
		let base = SecurityFlags {
			sasl_mechanism: Some(SaslMechanism::Plain),
			sasl_username: Some("u".into()),
			..Default::default()
		};
		assert!(security_properties(&base).unwrap_err().contains("--kafka-sasl-password-file"));
		let empty = SecurityFlags { sasl_password_file: Some(file(&dir, "empty", "")), ..base.clone() };
		assert!(security_properties(&empty).unwrap_err().contains("the file is empty"));
		let unset = SecurityFlags { sasl_password_env: Some("HERALD_TEST_UNSET_VARIABLE".into()), ..base };
		assert!(security_properties(&unset).unwrap_err().contains("HERALD_TEST_UNSET_VARIABLE"));
		let no_mechanism = SecurityFlags { sasl_username: Some("u".into()), ..Default::default() };
		assert!(security_properties(&no_mechanism).unwrap_err().contains("--kafka-sasl-mechanism"));
	}

	#[test]
	fn config_file_reads_key_value_lines_and_names_a_bad_line() {
		let dir = tempfile::tempdir().unwrap();
		let path = file(&dir, "kafka.properties", "# comment\n\nsasl.password = hunter2\ncompression.type=zstd\n");
		let properties = config_file(&path).unwrap();
		assert_eq!(get(&properties, "sasl.password"), Some("hunter2"));
		assert_eq!(get(&properties, "compression.type"), Some("zstd"));
		let bad = file(&dir, "bad.properties", "linger.ms=5\nhunter2\n");
		let error = config_file(&bad).unwrap_err();
		assert!(error.contains("line 2") && !error.contains("hunter2"), "{error}");
	}
}
