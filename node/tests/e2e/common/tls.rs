//! Certificates for the TLS tests, made fresh by each test with Debian's `openssl` (nothing checked in, nothing
//! that expires in the repository): a local CA, a broker certificate for 127.0.0.1 and a client certificate it
//! signs, and a client certificate from a CA the broker doesn't trust.

use std::{
	path::{Path, PathBuf},
	process::Command,
};

/// A CA, a server certificate for `127.0.0.1`/`localhost` and a client certificate it signs, and a client
/// certificate from another CA, in a temporary directory.
pub struct TestCertificates {
	_dir: tempfile::TempDir,
	pub ca: PathBuf,
	pub server_certificate: PathBuf,
	pub server_key: PathBuf,
	/// A client certificate (and its key) signed by `ca`, for mutual TLS.
	pub client_certificate: PathBuf,
	pub client_key: PathBuf,
	/// A second CA, which signed only `stranger_certificate`.
	pub other_ca: PathBuf,
	/// A client certificate signed by `other_ca`: a broker trusting only `ca` must refuse it.
	pub stranger_certificate: PathBuf,
	pub stranger_key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
	let output =
		Command::new("openssl").current_dir(dir).args(args).output().expect("openssl runs (apt install openssl)");
	assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// Makes `{name}.pem` and `{name}.key`: a certificate for `subject` with `extensions`, signed by `{ca}.pem`.
fn issue(dir: &Path, name: &str, subject: &str, extensions: &str, ca: &str) {
	let (key, csr, ext, pem) =
		(format!("{name}.key"), format!("{name}.csr"), format!("{name}.ext"), format!("{name}.pem"));
	openssl(dir, &["req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", &key, "-out", &csr]);
	std::fs::write(dir.join(&ext), extensions).unwrap();
	let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
	openssl(
		dir,
		&[
			"x509",
			"-req",
			"-in",
			&csr,
			"-CA",
			&ca_pem,
			"-CAkey",
			&ca_key,
			"-CAcreateserial",
			"-days",
			"2",
			"-extfile",
			&ext,
			"-out",
			&pem,
		],
	);
}

impl TestCertificates {
	pub fn generate() -> Self {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path();
		for (name, subject) in [("ca", "/CN=Herald test CA"), ("other-ca", "/CN=Another CA")] {
			openssl(
				path,
				&[
					"req",
					"-x509",
					"-newkey",
					"rsa:2048",
					"-nodes",
					"-days",
					"2",
					"-subj",
					subject,
					"-keyout",
					&format!("{name}.key"),
					"-out",
					&format!("{name}.pem"),
				],
			);
		}
		issue(
			path,
			"server",
			"/CN=127.0.0.1",
			"subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
			"ca",
		);
		let client_extensions = "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n";
		issue(path, "client", "/CN=herald-node", client_extensions, "ca");
		issue(path, "stranger", "/CN=herald-node", client_extensions, "other-ca");
		Self {
			ca: path.join("ca.pem"),
			server_certificate: path.join("server.pem"),
			server_key: path.join("server.key"),
			client_certificate: path.join("client.pem"),
			client_key: path.join("client.key"),
			other_ca: path.join("other-ca.pem"),
			stranger_certificate: path.join("stranger.pem"),
			stranger_key: path.join("stranger.key"),
			_dir: dir,
		}
	}
}
