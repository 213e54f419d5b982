//! A private PostgreSQL cluster for development mode and the test suite on
//! a machine where none answers: `initdb` and `pg_ctl` from the installed
//! server binaries, a data directory of its own, a free loopback port and
//! no Unix socket (so it needs no shared socket folder). Started as root,
//! the binaries run as the `postgres` OS user, since `initdb` refuses root.
//!
//! The calls block (they run processes); async callers use
//! `spawn_blocking`.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The OS user the binaries run as when started as root.
const SERVER_USER: &str = "postgres";

/// What to install when no server binaries are found.
pub const INSTALL_HINT: &str = "no PostgreSQL server binaries (initdb, pg_ctl) found: install them \
     (Debian/Ubuntu: `apt-get install postgresql`; macOS: `brew install postgresql@16`), \
     or set DATABASE_URL to a PostgreSQL server";

/// Whether something accepts TCP connections at `address` within a second.
pub fn answers(address: SocketAddr) -> bool {
    TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok()
}

/// A running private cluster; stopped when dropped if this process started it.
#[derive(Debug)]
pub struct PrivateCluster {
    data_dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_root: bool,
    started_here: bool,
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The folder of `initdb` and `pg_ctl`: pg_config's, the newest
/// `/usr/lib/postgresql/<version>/bin`, or the one on the PATH.
fn server_binaries() -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    debian.sort();
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>());
    from_pg_config
        .into_iter()
        .chain(debian.into_iter().rev().map(|(_, bin)| bin))
        .chain(on_path)
        .find(|dir| has_tools(dir))
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

impl PrivateCluster {
    /// Starts the cluster under `data_dir`, creating it on first use; a
    /// cluster already running there (a previous run that did not stop it)
    /// is used as it is and left running.
    pub fn start(data_dir: &Path) -> Result<Self, String> {
        let bin = server_binaries().ok_or_else(|| INSTALL_HINT.to_owned())?;
        std::fs::create_dir_all(data_dir)
            .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
        let data_dir = data_dir
            .canonicalize()
            .map_err(|e| format!("{}: {e}", data_dir.display()))?;
        let mut cluster = Self {
            data_dir,
            bin,
            port: 0,
            as_root: is_root(),
            started_here: false,
        };
        if cluster.as_root {
            cluster.run("chown", &["-R", SERVER_USER, &cluster.dir()], false)?;
        }
        if !cluster.data_dir.join("PG_VERSION").exists() {
            cluster.tool(
                "initdb",
                &[
                    "-D",
                    &cluster.dir(),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                ],
            )?;
        }
        if let Some(port) = cluster.running_port() {
            cluster.port = port;
            return Ok(cluster);
        }
        cluster.port = free_port()?;
        let log = cluster.data_dir.join("server.log");
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''",
            cluster.port
        );
        cluster.tool(
            "pg_ctl",
            &[
                "-D",
                &cluster.dir(),
                "-l",
                &log.to_string_lossy(),
                "-o",
                &options,
                "-w",
                "-t",
                "120",
                "start",
            ],
        )?;
        cluster.started_here = true;
        Ok(cluster)
    }

    /// The URL of database `name` on the cluster.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn dir(&self) -> String {
        self.data_dir.to_string_lossy().into_owned()
    }

    /// The port of a postmaster running on the data directory (line 4 of
    /// postmaster.pid), when `pg_ctl status` says one runs.
    fn running_port(&self) -> Option<u16> {
        self.tool("pg_ctl", &["-D", &self.dir(), "status"]).ok()?;
        let pid_file = std::fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?;
        pid_file.lines().nth(3)?.trim().parse().ok()
    }

    /// Runs server tool `name` (as the postgres user when root).
    fn tool(&self, name: &str, args: &[&str]) -> Result<(), String> {
        let program = self.bin.join(name);
        self.run(&program.to_string_lossy(), args, self.as_root)
    }

    fn run(&self, program: &str, args: &[&str], as_server_user: bool) -> Result<(), String> {
        let mut command = if as_server_user {
            let mut command = Command::new("runuser");
            command.args(["-u", SERVER_USER, "--", program]);
            command
        } else {
            Command::new(program)
        };
        let output = command
            .args(args)
            .output()
            .map_err(|e| format!("cannot run {program}: {e}"))?;
        if output.status.success() {
            return Ok(());
        }
        Err(format!(
            "{program} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }

    /// Stops the cluster if this process started it.
    pub fn stop(&mut self) -> Result<(), String> {
        if !std::mem::take(&mut self.started_here) {
            return Ok(());
        }
        self.tool("pg_ctl", &["-D", &self.dir(), "-m", "fast", "-w", "stop"])
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        if let Err(error) = self.stop() {
            tracing::warn!(%error, "the private PostgreSQL cluster did not stop");
        }
    }
}
