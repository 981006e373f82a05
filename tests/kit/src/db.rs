//! SQL lease databases for tests: a PostgreSQL server started from
//! Debian's packages in a temporary data directory, as a system user made
//! for it, listening only on a unix socket in that directory, with Kea's
//! schema created by `kea-admin db-init`; stopped (by pid, through
//! `pg_ctl`) and removed when dropped.
//!
//! The same for MariaDB ([`MariaDbServer`]: `mariadbd --skip-networking`
//! on a socket in its directory; Kea's MySQL backend takes no socket path
//! but honours `MYSQL_UNIX_PORT`, see [`MariaDbServer::kea_env`]).
//!
//! Needs Debian's `postgresql` (its binaries in `/usr/lib/postgresql/<N>/bin`),
//! `mariadb-server` and `kea-admin`.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, Weak};

use serde_json::{json, Value};

use crate::{SystemUser, TestDir};

/// The newest PostgreSQL installed: `/usr/lib/postgresql/<N>/bin`.
fn pg_bin() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("initdb").is_file())
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).unwrap_or_else(|| panic!("no PostgreSQL in /usr/lib/postgresql/*/bin (install postgresql)"))
}

/// The server in `slot` while a test holds it, else one `start` makes
/// (see [`PgServer::shared`]).
fn shared<T>(slot: &Mutex<Weak<T>>, start: fn() -> T) -> Arc<T> {
    let mut shared = slot.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(server) = shared.upgrade() {
        return server;
    }
    let server = Arc::new(start());
    *shared = Arc::downgrade(&server);
    server
}

fn check(what: &str, out: std::io::Result<Output>) -> String {
    let out = out.unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(out.status.success(), "{what}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A PostgreSQL server for tests: share one with [`PgServer::shared`]
/// (each [`PgServer::kea_database`] is a database of its own).
#[derive(Debug)]
pub struct PgServer {
    bin: PathBuf,
    data: PathBuf,
    socket: PathBuf,
    // Dropped after the server has stopped (field order).
    user: SystemUser,
    _dir: TestDir,
}

impl PgServer {
    /// The server the tests running now share, started when none runs: it
    /// stops when the last test holding it drops it (a test binary has no
    /// end-of-run hook, and a server left in a static would outlive the
    /// binary), so tests that run side by side share one start.
    pub fn shared() -> Arc<PgServer> {
        static SHARED: Mutex<Weak<PgServer>> = Mutex::new(Weak::new());
        shared(&SHARED, PgServer::start)
    }

    /// initdb (trust authentication for local connections) and start,
    /// listening on a unix socket only; waits until it accepts connections.
    pub fn start() -> PgServer {
        let bin = pg_bin();
        let dir = TestDir::new();
        let user = SystemUser::create();
        // The server's user must reach its directories.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let own = |name: &str| {
            let p = dir.path().join(name);
            std::fs::create_dir(&p).unwrap();
            std::os::unix::fs::chown(&p, Some(user.uid()), Some(user.gid())).unwrap();
            p
        };
        let (data, socket, log) = (own("pg").join("data"), own("socket"), own("log"));
        let server = PgServer { bin, data, socket, user, _dir: dir };
        check("initdb", server.as_user("initdb").args(["-A", "trust", "-U", "postgres", "-D"]).arg(&server.data).output());
        let options = format!("-k {} -c listen_addresses=''", server.socket.display());
        check(
            "pg_ctl start",
            server
                .as_user("pg_ctl")
                .arg("-D")
                .arg(&server.data)
                .arg("-l")
                .arg(log.join("postgresql.log"))
                .args(["-w", "-t", "30", "-o", &options, "start"])
                .output(),
        );
        server
    }

    fn as_user(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(program));
        cmd.uid(self.user.uid()).gid(self.user.gid()).env_clear().env("LC_ALL", "C");
        cmd
    }

    /// The directory of the server's socket (libpq's and Kea's `host`).
    pub fn socket_dir(&self) -> &Path {
        &self.socket
    }

    /// Runs `sql` in database `db` as the superuser; its output.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        check(
            &format!("psql {sql}"),
            Command::new(self.bin.join("psql"))
                .arg("-h")
                .arg(&self.socket)
                .args(["-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql])
                .output(),
        )
    }

    /// Creates database `name` owned by a user of the same name and Kea's
    /// schema in it (`kea-admin db-init pgsql`), and returns Kea's
    /// `lease-database` (or `config-databases` entry) for it.
    pub fn kea_database(&self, name: &str) -> Value {
        self.psql("postgres", &format!("CREATE USER {name} WITH PASSWORD '{name}'"));
        self.psql("postgres", &format!("CREATE DATABASE {name} OWNER {name}"));
        let socket = self.socket.to_str().unwrap();
        check(
            "kea-admin db-init pgsql",
            Command::new("kea-admin").args(["db-init", "pgsql", "-h", socket, "-u", name, "-p", name, "-n", name]).output(),
        );
        json!({ "type": "postgresql", "name": name, "host": socket, "user": name, "password": name })
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let out = self.as_user("pg_ctl").arg("-D").arg(&self.data).args(["-m", "fast", "-w", "-t", "30", "stop"]).output();
        if let Ok(out) = out {
            if !out.status.success() && !std::thread::panicking() {
                eprintln!("pg_ctl stop: {}", String::from_utf8_lossy(&out.stderr));
            }
        }
    }
}

/// A MariaDB server for tests, as [`PgServer`]: Debian's `mariadbd` in a
/// temporary data directory, as a user of its own, on a unix socket only;
/// share one with [`MariaDbServer::shared`].
#[derive(Debug)]
pub struct MariaDbServer {
    child: std::process::Child,
    socket: PathBuf,
    // Dropped after the server has stopped (field order).
    _user: SystemUser,
    _dir: TestDir,
}

impl MariaDbServer {
    /// The server the tests running now share (see [`PgServer::shared`]).
    pub fn shared() -> Arc<MariaDbServer> {
        static SHARED: Mutex<Weak<MariaDbServer>> = Mutex::new(Weak::new());
        shared(&SHARED, MariaDbServer::start)
    }

    /// mariadb-install-db and mariadbd; waits (up to 30 s) for its socket.
    pub fn start() -> MariaDbServer {
        let dir = TestDir::new();
        let user = SystemUser::create();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let own = |name: &str| {
            let p = dir.path().join(name);
            std::fs::create_dir(&p).unwrap();
            std::os::unix::fs::chown(&p, Some(user.uid()), Some(user.gid())).unwrap();
            p
        };
        let (data, run) = (own("data"), own("run"));
        let socket = run.join("mysqld.sock");
        let as_user = |program: &str| {
            let mut cmd = Command::new(program);
            cmd.uid(user.uid()).gid(user.gid()).env_clear().env("LC_ALL", "C").env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
            cmd
        };
        check(
            "mariadb-install-db",
            as_user("mariadb-install-db")
                .args(["--no-defaults", "--auth-root-authentication-method=normal", "--skip-test-db"])
                .arg(format!("--datadir={}", data.display()))
                .output(),
        );
        let child = as_user("/usr/sbin/mariadbd")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--pid-file={}", run.join("mysqld.pid").display()))
            .arg(format!("--log-error={}", run.join("error.log").display()))
            .arg("--skip-networking")
            .stdin(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("mariadbd.stderr")).unwrap())
            .spawn()
            .expect("start /usr/sbin/mariadbd (install mariadb-server)");
        let server = MariaDbServer { child, socket, _user: user, _dir: dir };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !server.socket.exists() {
            assert!(std::time::Instant::now() < deadline, "mariadbd made no socket in 30 s: {}", std::fs::read_to_string(run.join("error.log")).unwrap_or_default());
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        server
    }

    /// The server's socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Runs `sql` in database `db` as root; its output.
    pub fn sql(&self, db: &str, sql: &str) -> String {
        check(
            &format!("mariadb {sql}"),
            Command::new("mariadb")
                .arg("--no-defaults")
                .arg(format!("--socket={}", self.socket.display()))
                .args(["-u", "root", "-N", "-B", "-e", sql, db])
                .output(),
        )
    }

    /// Creates database `name`, a user of the same name with every right
    /// on it, and Kea's schema in it (`kea-admin db-init mysql`); returns
    /// Kea's `lease-database` for it. Start Kea with [`MariaDbServer::kea_env`].
    pub fn kea_database(&self, name: &str) -> Value {
        self.sql("mysql", &format!("CREATE DATABASE {name}; CREATE USER '{name}'@'localhost' IDENTIFIED BY '{name}'; GRANT ALL ON {name}.* TO '{name}'@'localhost'"));
        check(
            "kea-admin db-init mysql",
            Command::new("kea-admin")
                .args(["db-init", "mysql", "-u", name, "-p", name, "-n", name, "-x"])
                .arg(format!("--socket={}", self.socket.display()))
                .output(),
        );
        json!({ "type": "mysql", "name": name, "host": "localhost", "user": name, "password": name })
    }

    /// The environment variable that points Kea's MySQL backend at this
    /// server's socket: give it to [`crate::KeaConfig::env`].
    pub fn kea_env(&self) -> (&'static str, String) {
        ("MYSQL_UNIX_PORT", self.socket.display().to_string())
    }
}

impl Drop for MariaDbServer {
    fn drop(&mut self) {
        // SIGTERM (a normal shutdown) to our own child, by pid.
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

/// `lib<name>.so` of the kind of database `db_type` names (Kea's
/// `"type"`: `postgresql` or `mysql`).
fn backend_name(db_type: &str) -> &'static str {
    match db_type {
        "postgresql" => "pgsql",
        "mysql" => "mysql",
        other => panic!("not an SQL database type: {other:?}"),
    }
}

/// The ISC hook libraries a Kea needs to open a lease database of type
/// `db_type` (`postgresql` or `mysql`): from Kea 2.7.4 (3.0 here) the SQL
/// backends are the hooks `libdhcp_pgsql.so` and `libdhcp_mysql.so`;
/// before, they are built into Kea (none).
pub fn sql_lease_backend_hooks(db_type: &str) -> Vec<PathBuf> {
    if crate::kea_hooks_version() >= 20704 {
        vec![crate::isc_hook(&format!("libdhcp_{}.so", backend_name(db_type)))]
    } else {
        Vec::new()
    }
}

/// The ISC hook library of the configuration backend of `db_type`:
/// `libdhcp_pgsql_cb.so` / `libdhcp_mysql_cb.so` before Kea 2.7.4, the
/// backend hooks themselves (which hold both) after.
pub fn sql_config_backend_hook(db_type: &str) -> PathBuf {
    let name = backend_name(db_type);
    if crate::kea_hooks_version() >= 20704 {
        crate::isc_hook(&format!("libdhcp_{name}.so"))
    } else {
        crate::isc_hook(&format!("libdhcp_{name}_cb.so"))
    }
}

/// Whether the Kea under test has SQL backends: every Debian Kea does (it
/// panics when one lacks them); a Kea 3.2+ built from source into
/// `/usr/local` may have been built without them (no `-D postgresql`,
/// `-D mysql`), and there this prints why the SQL test does not apply and
/// returns false. Not a skip: that build cannot have
/// them. Start every SQL test with `if !sql_backends() { return; }` after
/// [`crate::require_root_and_kea`].
pub fn sql_backends() -> bool {
    let source_built = Path::new("/usr/local/sbin/kea-dhcp4").exists() && crate::kea_hooks_version() >= 30200;
    let has = |name: &str| ["/usr/local/lib/kea/hooks", "/usr/lib/x86_64-linux-gnu/kea/hooks"].iter().any(|d| Path::new(d).join(name).exists());
    if source_built && !has("libdhcp_pgsql.so") && !has("libdhcp_mysql.so") {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "not applicable: this Kea {} (built from source without -D postgresql/-D mysql) has no SQL backends", crate::kea_hooks_version());
        return false;
    }
    true
}
