//! A private Dovecot (IMAP, POP3, LMTP, auth) and Postfix (submission 587-style STARTTLS and
//! 465-style implicit TLS, plus an MX-style port) per test, from Debian's packages.
//!
//! Each `MailServers` gets its own temporary directory, random ports on 127.0.0.1 and a fresh CA
//! and certificate. Dropping it (also while a failed test unwinds) stops both servers and
//! removes the directory. No DNS: Postfix never looks up names and only delivers over LMTP.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::certs::{self, TestCerts};

/// The test mail domain; everything else is refused.
pub const DOMAIN: &str = "example.test";

/// The uid/gid mail is stored under (Dovecot refuses uid 0 for mail): "nobody".
const MAIL_UID: u32 = 65534;

/// The packages the harness needs, as `apt-get` names them.
pub const PACKAGES: &str = "dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd postfix";

/// A mailbox user of the test servers.
#[derive(Debug, Clone)]
pub struct User {
    pub address: String,
    pub password: String,
    pub home: PathBuf,
}

impl User {
    pub fn maildir(&self) -> PathBuf {
        self.home.join("Maildir")
    }
}

/// The ports the servers listen on, all on 127.0.0.1.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub imap: u16,
    pub imaps: u16,
    pub pop3: u16,
    pub pop3s: u16,
    pub lmtp: u16,
    pub auth: u16,
    /// MX-style SMTP: accepts mail for the test domain without AUTH, like port 25.
    pub smtp: u16,
    /// Submission with STARTTLS required before AUTH (like 587).
    pub submission: u16,
    /// Submission over implicit TLS (like 465).
    pub submissions: u16,
}

/// Running Dovecot and Postfix for one test.
pub struct MailServers {
    root: tempfile::TempDir,
    pub certs: TestCerts,
    pub ports: Ports,
    /// The sender.
    pub alice: User,
    /// The recipient.
    pub bob: User,
    /// The Bcc recipient.
    pub carol: User,
    dovecot_dir: PathBuf,
    postfix_dir: PathBuf,
    postfix_started: bool,
    options: Options,
}

/// How a test wants the servers configured beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Replaces the IMAP CAPABILITY Dovecot announces (Dovecot's `imap_capability`), to test the
    /// client's fallbacks for servers without MOVE, UIDPLUS, CONDSTORE or QRESYNC. Dovecot adds
    /// STARTTLS and AUTH= itself before login.
    pub imap_capability: Option<String>,
    /// The personal namespace's prefix and separator, e.g. `("INBOX.", '.')` for a
    /// Courier-style layout; the default is no prefix and `/`.
    pub namespace: Option<(String, char)>,
    /// Postfix's `message_size_limit` (default 10,240,000 bytes, Postfix's own default).
    pub message_size_limit: Option<u64>,
}

/// Dovecot's IMAP capabilities without COMPRESS: a proxy between Tern and Dovecot then sees the
/// plain protocol (to inject faults into it).
pub const CAPABILITY_WITHOUT_COMPRESS: &str = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ UIDPLUS MOVE CONDSTORE QRESYNC SPECIAL-USE";

impl Options {
    /// The defaults, but without COMPRESS (see `CAPABILITY_WITHOUT_COMPRESS`).
    pub fn without_compress() -> Options {
        Options {
            imap_capability: Some(CAPABILITY_WITHOUT_COMPRESS.to_owned()),
            ..Options::default()
        }
    }
}

impl std::fmt::Debug for MailServers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailServers")
            .field("root", &self.root.path())
            .field("ports", &self.ports)
            .finish()
    }
}

/// Fails the test with one line when the system lacks what the servers need.
fn preflight() {
    let missing: Vec<&str> = [
        ("/usr/sbin/dovecot", "dovecot-core"),
        ("/usr/lib/dovecot/imap", "dovecot-imapd"),
        ("/usr/lib/dovecot/pop3", "dovecot-pop3d"),
        ("/usr/lib/dovecot/lmtp", "dovecot-lmtpd"),
        ("/usr/sbin/postfix", "postfix"),
    ]
    .iter()
    .filter(|(path, _)| !Path::new(path).exists())
    .map(|(_, package)| *package)
    .collect();
    if !missing.is_empty() {
        panic!(
            "the mail-server tests need {}: run `sudo apt-get install -y --no-install-recommends {}` (or `bash tests/run.sh`, which installs them)",
            missing.join(", "),
            missing.join(" ")
        );
    }
    if !is_root() {
        panic!(
            "the mail-server tests must run as root (Postfix starts only as root): run `sudo bash tests/run.sh`"
        );
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

fn user_id(name: &str) -> u32 {
    let out = Command::new("id").arg("-u").arg(name).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| {
            panic!("no system user {name:?}: reinstall with `apt-get install --reinstall postfix`")
        })
}

/// Free ports, chosen by the kernel. (Another process could take one before the server binds it;
/// `start` then retries with new ports.)
fn free_ports() -> Ports {
    let listeners: Vec<TcpListener> = (0..9)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let port = |i: usize| listeners[i].local_addr().unwrap().port();
    Ports {
        imap: port(0),
        imaps: port(1),
        pop3: port(2),
        pop3s: port(3),
        lmtp: port(4),
        auth: port(5),
        smtp: port(6),
        submission: port(7),
        submissions: port(8),
    }
}

impl MailServers {
    /// Starts both servers and waits until every port greets. Panics with the servers' logs if
    /// they do not come up.
    pub fn start() -> MailServers {
        MailServers::start_with(Options::default())
    }

    /// Starts both servers configured with `options`.
    pub fn start_with(options: Options) -> MailServers {
        preflight();
        let mut last_error = String::new();
        for _attempt in 0..3 {
            match MailServers::try_start(&options) {
                Ok(servers) => return servers,
                Err(e) => last_error = e,
            }
        }
        panic!("the test mail servers did not start: {last_error}");
    }

    fn try_start(options: &Options) -> Result<MailServers, String> {
        let started = Instant::now();
        let root = tempfile::Builder::new()
            .prefix("tern-test-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        // Dovecot's and Postfix's unprivileged processes must reach into the directory.
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755))
            .map_err(|e| e.to_string())?;
        let certs = certs::generate(&root.path().join("certs"));
        let ports = free_ports();
        let mail_root = root.path().join("mail");
        let user = |name: &str| User {
            address: format!("{name}@{DOMAIN}"),
            password: format!("{name}-secret-{}", ports.imap),
            home: mail_root.join(DOMAIN).join(name),
        };
        let mut servers = MailServers {
            dovecot_dir: root.path().join("dovecot"),
            postfix_dir: root.path().join("postfix"),
            alice: user("alice"),
            bob: user("bob"),
            carol: user("carol"),
            certs,
            ports,
            root,
            postfix_started: false,
            options: options.clone(),
        };
        servers
            .write_dovecot_config()
            .map_err(|e| format!("writing Dovecot's configuration: {e}"))?;
        servers
            .write_postfix_config()
            .map_err(|e| format!("writing Postfix's configuration: {e}"))?;

        run_daemon(
            Command::new("dovecot")
                .arg("-c")
                .arg(servers.dovecot_dir.join("dovecot.conf")),
        )
        .map_err(|e| format!("dovecot: {e}\n{}", servers.dovecot_log()))?;
        run_daemon(
            Command::new("postfix")
                .arg("-c")
                .arg(&servers.postfix_dir)
                .arg("start"),
        )
        .map_err(|e| format!("postfix: {e}\n{}", servers.postfix_log()))?;
        servers.postfix_started = true;

        let greetings = [
            (ports.imap, "* OK"),
            (ports.pop3, "+OK"),
            (ports.lmtp, "220 "),
            (ports.smtp, "220 "),
            (ports.submission, "220 "),
        ];
        for (port, greeting) in greetings {
            wait_for_greeting(port, greeting, Duration::from_secs(20)).map_err(|e| {
                format!(
                    "{e}\n--- dovecot log ---\n{}\n--- postfix log ---\n{}",
                    servers.dovecot_log(),
                    servers.postfix_log()
                )
            })?;
        }
        for port in [ports.imaps, ports.pop3s, ports.submissions, ports.auth] {
            wait_for_connect(port, Duration::from_secs(20))?;
        }
        eprintln!(
            "test mail servers up in {:?} at {}",
            started.elapsed(),
            servers.root.path().display()
        );
        Ok(servers)
    }

    /// The users: sender, recipient and Bcc recipient.
    pub fn users(&self) -> [&User; 3] {
        [&self.alice, &self.bob, &self.carol]
    }

    pub fn dir(&self) -> &Path {
        self.root.path()
    }

    pub fn dovecot_log(&self) -> String {
        std::fs::read_to_string(self.dovecot_dir.join("dovecot.log")).unwrap_or_default()
    }

    /// Whether Postfix holds no message (all delivered or bounced).
    pub fn postfix_queue_is_empty(&self) -> bool {
        ["maildrop", "incoming", "active", "deferred", "hold"]
            .iter()
            .all(|q| queue_files(&self.postfix_dir.join("queue").join(q)) == 0)
    }

    pub fn postfix_log(&self) -> String {
        std::fs::read_to_string(self.postfix_dir.join("maillog")).unwrap_or_default()
    }

    fn write_dovecot_config(&self) -> std::io::Result<()> {
        let d = &self.dovecot_dir;
        for sub in ["run", "state"] {
            std::fs::create_dir_all(d.join(sub))?;
        }
        let mut users = String::new();
        for user in self.users() {
            std::fs::create_dir_all(&user.home)?;
            let _ = writeln!(users, "{}:{{PLAIN}}{}::::::", user.address, user.password);
        }
        chown_tree(&self.root.path().join("mail"), MAIL_UID)?;
        std::fs::write(d.join("users"), users)?;
        let p = self.ports;
        let conf = format!(
            r#"# Generated by Tern's test harness.
instance_name = tern-test-{instance}
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap pop3 lmtp
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
mail_fsync = never
mail_plugins = $mail_plugins zlib
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {dir}/users
  default_fields = uid={uid} gid={uid} home={mail}/%d/%n
}}
namespace inbox {{
  inbox = yes
{namespace}
  mailbox Sent {{
    special_use = \Sent
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \Drafts
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \Trash
    auto = subscribe
  }}
  mailbox Junk {{
    special_use = \Junk
    auto = subscribe
  }}
  mailbox Archive {{
    special_use = \Archive
    auto = subscribe
  }}
}}
protocol imap {{
  mail_plugins = $mail_plugins imap_zlib
{imap_capability}}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  chroot =
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {pop3s}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp}
  }}
}}
service auth {{
  inet_listener auth {{
    address = 127.0.0.1
    port = {auth}
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"#,
            instance = p.imap,
            dir = d.display(),
            cert = self.certs.server_pem.display(),
            key = self.certs.server_key.display(),
            uid = MAIL_UID,
            mail = self.root.path().join("mail").display(),
            imap = p.imap,
            imaps = p.imaps,
            pop3 = p.pop3,
            pop3s = p.pop3s,
            lmtp = p.lmtp,
            auth = p.auth,
            namespace = match &self.options.namespace {
                Some((prefix, separator)) =>
                    format!("  separator = {separator}\n  prefix = {prefix}\n"),
                None => "  separator = /\n".to_owned(),
            },
            imap_capability = self
                .options
                .imap_capability
                .as_ref()
                .map(|c| format!("  imap_capability = {c}\n"))
                .unwrap_or_default(),
        );
        std::fs::write(d.join("dovecot.conf"), conf)
    }

    fn write_postfix_config(&self) -> std::io::Result<()> {
        let d = &self.postfix_dir;
        std::fs::create_dir_all(d.join("queue"))?;
        std::fs::create_dir_all(d.join("data"))?;
        chown(d.join("data"), Some(user_id("postfix")), None)?;
        let p = self.ports;
        let main_cf = format!(
            "# Generated by Tern's test harness.
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.{DOMAIN}
mydomain = {DOMAIN}
myorigin = {DOMAIN}
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
alias_maps =
alias_database =
local_recipient_maps =
virtual_alias_domains =
virtual_mailbox_domains = {DOMAIN}
virtual_transport = lmtp:inet:127.0.0.1:{lmtp}
default_transport = error:mail to other domains is disabled in Tern's tests
relay_transport = error:mail to other domains is disabled in Tern's tests
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:{auth}
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = may
smtputf8_enable = yes
biff = no
message_size_limit = {size_limit}
",
            size_limit = self.options.message_size_limit.unwrap_or(10_240_000),
            dir = d.display(),
            lmtp = p.lmtp,
            auth = p.auth,
            cert = self.certs.server_pem.display(),
            key = self.certs.server_key.display(),
        );
        let master_cf = format!(
            "# Generated by Tern's test harness. chroot is off everywhere.
127.0.0.1:{smtp} inet n - n - - smtpd
127.0.0.1:{submission} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
127.0.0.1:{submissions} inet n - n - - smtpd
  -o syslog_name=postfix/submissions
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
",
            smtp = p.smtp,
            submission = p.submission,
            submissions = p.submissions,
        );
        std::fs::write(d.join("main.cf"), main_cf)?;
        std::fs::write(d.join("master.cf"), master_cf)
    }

    fn stop(&mut self) {
        if self.postfix_started {
            let _ = Command::new("postfix")
                .arg("-c")
                .arg(&self.postfix_dir)
                .arg("stop")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            wait_gone(&self.postfix_dir.join("queue/pid/master.pid"));
            self.postfix_started = false;
        }
        let pid_file = self.dovecot_dir.join("run/master.pid");
        if let Ok(pid) = std::fs::read_to_string(&pid_file) {
            let _ = Command::new("kill").arg("-TERM").arg(pid.trim()).status();
            wait_gone(&pid_file);
        }
    }
}

impl Drop for MailServers {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs a command that daemonises, with stdio detached (Dovecot's log process would otherwise
/// keep our stderr open and anything waiting on it would hang).
fn run_daemon(command: &mut Command) -> Result<(), String> {
    let status = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("exited with {status}"))
    }
}

/// Waits until the process named in `pid_file` has exited (the daemon removes the file, or the
/// pid is no longer alive), at most 10 s.
fn wait_gone(pid_file: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let alive = std::fs::read_to_string(pid_file)
            .ok()
            .map(|pid| Path::new("/proc").join(pid.trim()).exists())
            .unwrap_or(false);
        if !alive {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_for_connect(port: u16, limit: Duration) -> Result<TcpStream, String> {
    let deadline = Instant::now() + limit;
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => return Ok(stream),
            Err(e) if Instant::now() > deadline => {
                return Err(format!("nothing listens on 127.0.0.1:{port}: {e}"));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

fn wait_for_greeting(port: u16, greeting: &str, limit: Duration) -> Result<(), String> {
    let stream = wait_for_connect(port, limit)?;
    stream
        .set_read_timeout(Some(limit))
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    BufReader::new(stream)
        .read_line(&mut line)
        .map_err(|e| format!("127.0.0.1:{port} sent no greeting: {e}"))?;
    if line.starts_with(greeting) {
        Ok(())
    } else {
        Err(format!(
            "127.0.0.1:{port} greeted with {line:?}, expected {greeting:?}"
        ))
    }
}

/// Gives `path` and everything under it to `uid`.
pub fn chown_tree(path: &Path, uid: u32) -> std::io::Result<()> {
    chown(path, Some(uid), Some(uid))?;
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            chown_tree(&entry?.path(), uid)?;
        }
    }
    Ok(())
}

pub(crate) const STORAGE_UID: u32 = MAIL_UID;

/// Files under `dir` (Postfix spreads a queue over hashed subdirectories).
fn queue_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| {
            let path = e.path();
            if path.is_dir() { queue_files(&path) } else { 1 }
        })
        .sum()
}
