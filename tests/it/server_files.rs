//! The server's files on disk: owner-only from their creation, and key
//! material that is never replaced behind the admin's back.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::helpers::*;

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn data_dir_database_key_and_images_are_owner_only() {
    let server = Server::start("127.0.0.1", &[]);
    let desk = Desktop::start(320, 240);
    let mut agent = Agent::new(
        Some(&desk),
        &format!(
            "[schedule]\nminute = \"1s\"\nsegment = \"2s\"\n[tracking]\ninitial = true\n{}",
            server.agent_toml("localhost")
        ),
    );
    agent.start_daemon();
    let dir = server.dir.path();
    let image = wait_for("an image at the server", Duration::from_secs(30), || {
        let id = server_capture_id(&server)?;
        Some(std::path::PathBuf::from(
            server.admin(&["capture-path", &id]).trim(),
        ))
    });
    agent.stop_daemon();
    for (path, want) in [
        (dir.join("server.db"), 0o600),
        (dir.join("server.key"), 0o600),
        (dir.join("captures"), 0o700),
        (image.parent().unwrap().to_path_buf(), 0o700),
        (image.clone(), 0o600),
    ] {
        assert_eq!(mode(&path), want, "{}", path.display());
    }
}

fn server_capture_id(server: &Server) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(&server.admin(&["export", "--json"])).ok()?;
    Some(v["devices"][0]["captures"][0]["id"].as_str()?.to_string())
}

/// A lost server.key beside its certificate once made the server generate a
/// new CA over the old one, locking every enrolled agent out.
#[test]
fn a_missing_key_is_refused_and_the_ca_kept() {
    let mut server = Server::start("127.0.0.1", &[]);
    server.stop();
    let dir = server.dir.path().to_path_buf();
    let ca = std::fs::read(dir.join("ca.pem")).unwrap();
    std::fs::remove_file(dir.join("server.key")).unwrap();
    let out = server
        .admin_command()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("server.key") && err.contains("refusing"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(dir.join("ca.pem")).unwrap(),
        ca,
        "the CA is untouched"
    );
    assert!(!dir.join("server.key").exists());
}
