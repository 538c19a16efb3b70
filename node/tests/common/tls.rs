//! Certificates for the TLS tests, made fresh by each test with Debian's `openssl` (nothing checked in, nothing
//! that expires in the repository): a local CA and a broker certificate for 127.0.0.1 it signs.

use std::{
	path::{Path, PathBuf},
	process::Command,
};

/// A CA and a server certificate for `127.0.0.1`/`localhost`, in a temporary directory.
pub struct TestCertificates {
	_dir: tempfile::TempDir,
	pub ca: PathBuf,
	pub server_certificate: PathBuf,
	pub server_key: PathBuf,
	/// A second CA that signed nothing here (a client trusting only it must refuse the broker).
	pub other_ca: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
	let output =
		Command::new("openssl").current_dir(dir).args(args).output().expect("openssl runs (apt install openssl)");
	assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
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
		openssl(
			path,
			&[
				"req",
				"-newkey",
				"rsa:2048",
				"-nodes",
				"-subj",
				"/CN=127.0.0.1",
				"-keyout",
				"server.key",
				"-out",
				"server.csr",
			],
		);
		std::fs::write(
			path.join("server.ext"),
			"subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
		)
		.unwrap();
		openssl(
			path,
			&[
				"x509",
				"-req",
				"-in",
				"server.csr",
				"-CA",
				"ca.pem",
				"-CAkey",
				"ca.key",
				"-CAcreateserial",
				"-days",
				"2",
				"-extfile",
				"server.ext",
				"-out",
				"server.pem",
			],
		);
		Self {
			ca: path.join("ca.pem"),
			server_certificate: path.join("server.pem"),
			server_key: path.join("server.key"),
			other_ca: path.join("other-ca.pem"),
			_dir: dir,
		}
	}
}
