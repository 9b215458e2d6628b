//! The `ecpa` command: the eCPA award-order flow from a terminal.
//!
//! The forms of the subcommands are a contract (the table in README.md, "The command"): other
//! tools drive the project through them. Human output is zh-TW unless `--lang en`; `--json`
//! prints machine-readable output on stdout. Exit codes: 0 success, 1 a negative answer or a domain
//! error, 2 a usage or I/O error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// mimalloc rather than glibc's malloc: `ecpa serve` answers each request on whichever thread is
/// free, and glibc's per-thread arenas and locks cost about a tenth of a short request.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use ecpa::types::{Lang, NationalId};
use ecpa::{Error, ErrorCode};
use serde::Serialize;

/// `ecpa demo`: the whole flow on the embedded default, as the README's first command runs it.
#[path = "ecpa/demo.rs"]
mod demo;

#[derive(Parser)]
#[command(
    name = "ecpa",
    version,
    about = "eCPA 人事服務網：登入、獎勵令電子化與個人資料校對 / the eCPA award-order flow"
)]
struct Cli {
    #[command(flatten)]
    out: Output,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone, Copy)]
struct Output {
    /// Machine-readable JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// Language of human output: zh-TW (default) or en.
    #[arg(long, global = true, default_value = "zh-TW", value_parser = parse_lang)]
    lang: Lang,
}

fn parse_lang(s: &str) -> Result<Lang, String> {
    s.parse::<Lang>().map_err(|e| e.message(Lang::En))
}

#[derive(Subcommand)]
enum Command {
    /// Runs the whole flow on a fresh embedded database with a software card and a file mailer.
    Demo {
        /// The database file (default: a fresh one in a new temporary folder).
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// Smart-card readers and the NHI card (feature `card`).
    Card {
        #[command(subcommand)]
        command: CardCommand,
    },
    /// Certificates (MOICA profile).
    Cert {
        #[command(subcommand)]
        command: CertCommand,
    },
    /// Certificate revocation lists.
    Crl {
        #[command(subcommand)]
        command: CrlCommand,
    },
    /// The environment check (環境檢測): PC/SC service, readers, cards, the citizen card's
    /// PKCS#11 module, token and certificate, trust anchors, clock, portal. Exit 1 if any row fails.
    Doctor {
        /// The PKCS#11 module (default: ECPA_PKCS11_MODULE, then where HiCOS is usually installed).
        #[arg(long)]
        pkcs11_module: Option<PathBuf>,
        /// The trust anchors directory (GRCA root certificates).
        #[arg(long)]
        anchors: Option<PathBuf>,
        /// The portal URL to reach (http:// or https://).
        #[arg(long)]
        portal: Option<String>,
        /// Seconds each probe is given before it counts as timed out.
        #[arg(long, default_value_t = 3.0)]
        timeout: f64,
    },
    /// National IDs and resident certificate numbers.
    Id {
        #[command(subcommand)]
        command: IdCommand,
    },
    /// The HTTP service: a SQLite file in the current directory and a maildir by default.
    #[cfg(feature = "http")]
    Serve {
        /// The database: a SQLite file path (default `ecpa.db`) or a `postgres://` URL.
        #[arg(long)]
        db: Option<String>,
        /// The address to listen on (default `127.0.0.1:8080`; port 0 picks a free one).
        #[arg(long)]
        listen: Option<String>,
        /// A TOML configuration file; `ECPA_*` environment variables override it.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// The local card agent for browsers (feature `card`): HiPKI-compatible endpoints on
    /// loopback, for the pages of the allowed origins only.
    #[cfg(feature = "http")]
    Agent {
        /// Where to listen: a loopback address only (default `127.0.0.1:61161`).
        #[arg(long)]
        listen: Option<String>,
        /// The citizen card's PKCS#11 module (default: HiCOS where its installer puts it).
        #[arg(long)]
        pkcs11_module: Option<PathBuf>,
        /// A site whose pages may use the cards (`https://host[:port]`, exactly); repeatable.
        #[arg(long = "allow-origin", value_name = "ORIGIN")]
        allow_origins: Vec<String>,
        /// An existing page that collects the PIN itself and sends it; repeatable.
        #[arg(long = "legacy-origin", value_name = "ORIGIN")]
        legacy_origins: Vec<String>,
        /// A TOML configuration file (its `[agent]` section, and the portal's public origin).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Prints the user service that starts the agent at login, and exits.
        #[arg(long, value_name = "systemd|launchd")]
        print_service: Option<String>,
    },
    /// The service's configuration.
    #[cfg(feature = "http")]
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// The staff directory (機關、單位、人員、人事人員).
    #[cfg(feature = "http")]
    Directory {
        #[command(subcommand)]
        command: DirectoryCommand,
    },
    /// The outbox: mail the portal has queued.
    #[cfg(feature = "http")]
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Brings the database's schema up to date and prints its version.
    #[cfg(feature = "http")]
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Maintenance windows of the registration service (系統維護公告).
    #[cfg(feature = "http")]
    Maintenance {
        #[command(subcommand)]
        command: MaintenanceCommand,
    },
    /// The portal's announcements (公告) to everyone who opens it.
    #[cfg(feature = "http")]
    Announce {
        #[command(subcommand)]
        command: AnnounceCommand,
    },
    /// The consent texts (獎令電子化同意書): their versions and the kinds each covers.
    #[cfg(feature = "http")]
    Consent {
        #[command(subcommand)]
        command: ConsentCommand,
    },
    /// A lost or stolen NHI card: stops the person's NHI-card registrations (健保卡註冊停用),
    /// ends their NHI-card sessions and tells them by mail.
    #[cfg(feature = "http")]
    Registration {
        #[command(subcommand)]
        command: RegistrationCommand,
    },
    /// A lost citizen certificate card: removes the person's certificate bindings, ends their
    /// certificate sessions and tells them by mail.
    #[cfg(feature = "http")]
    Certificate {
        #[command(subcommand)]
        command: CertificateCommand,
    },
    /// Copies the SQLite database, while the portal runs, into a new file (PostgreSQL: pg_dump).
    #[cfg(feature = "http")]
    Backup {
        /// The file to write.
        file: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        operator: OperatorArg,
    },
    /// Deletes spent and expired links, login challenges, ended sessions, and audit rows past
    /// their retention.
    #[cfg(feature = "http")]
    Purge {
        /// Years audit rows are kept (default: `[portal] audit_retention_years`, 5).
        #[arg(long)]
        audit_retention_years: Option<u32>,
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        operator: OperatorArg,
    },
}

/// Where an operator command finds the portal: the database, or the configuration `ecpa serve`
/// uses (the same file and `ECPA_*` environment), with `--db` winning.
#[cfg(feature = "http")]
#[derive(Args, Clone)]
struct DbArgs {
    /// The database: a SQLite file path or a `postgres://` URL (default: the configuration's).
    #[arg(long)]
    db: Option<String>,
    /// A TOML configuration file, as for `ecpa serve`; `ECPA_*` environment variables override it.
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Who the audit trail names for an operator command that touches personal data.
#[cfg(feature = "http")]
#[derive(Args, Clone)]
struct OperatorArg {
    /// The operator's name for the audit trail (default: the login name, USER or LOGNAME).
    #[arg(long)]
    operator: Option<String>,
}

#[cfg(feature = "http")]
#[derive(Subcommand)]
enum DirectoryCommand {
    /// Loads the staff directory from CSV, all or nothing; every bad line is reported.
    Import {
        /// The CSV file (columns: see `ecpa::portal::directory`).
        file: PathBuf,
        /// The file's encoding: auto (UTF-8 if valid, else Big5), utf-8 or big5.
        #[arg(long, default_value = "auto")]
        encoding: String,
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        operator: OperatorArg,
    },
}

#[cfg(feature = "http")]
#[derive(Subcommand)]
enum OutboxCommand {
    /// Delivers queued mail with the configured mailer, until SIGINT or SIGTERM.
    Deliver {
        /// Deliver what is due now, report and exit (exit 1 if any mail failed).
        #[arg(long)]
        once: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[cfg(feature = "http")]
#[derive(Subcommand)]
enum MaintenanceCommand {
    /// Announces a window: registration is refused from --from until --to.
    Add {
        /// Start: ROC (`115/03/01 08:00`, `1150301`) or ISO/RFC 3339; Taiwan time unless an offset is given.
        #[arg(long)]
        from: String,
        /// End, in the same forms.
        #[arg(long)]
        to: String,
        /// The reason shown in the notice, e.g. 配合戶政系統維護.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Lists the windows that have not ended.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Withdraws a window.
    Remove {
        /// The window's number (from `list`).
        id: i64,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// `ecpa registration …`.
#[cfg(feature = "http")]
#[derive(Subcommand)]
enum RegistrationCommand {
    /// Stops the person's NHI-card registrations.
    Stop(PersonArgs),
}

/// `ecpa certificate …`.
#[cfg(feature = "http")]
#[derive(Subcommand)]
enum CertificateCommand {
    /// Removes the person's certificate bindings.
    Unbind(PersonArgs),
}

/// The person whose lost card's access an operator command stops.
#[cfg(feature = "http")]
#[derive(Args)]
struct PersonArgs {
    /// The person's national ID.
    national_id: String,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    operator: OperatorArg,
}

#[cfg(feature = "http")]
#[derive(Subcommand)]
enum AnnounceCommand {
    /// Publishes an announcement.
    Add {
        /// The title.
        #[arg(long)]
        title: String,
        /// The text.
        #[arg(long)]
        body: String,
        /// Shown until then (ROC or ISO, Taiwan time unless an offset is given); default: until removed.
        #[arg(long)]
        until: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Lists every announcement, lapsed ones included.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Takes an announcement down.
    Remove {
        /// The announcement's number (from `list`).
        id: i64,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[cfg(feature = "http")]
#[derive(Subcommand)]
enum ConsentCommand {
    /// Loads a consent text from a TOML file: `version`, `effective_from` (ROC or ISO),
    /// `covers` (the highest reward: merit/記功 or major_merit/記大功), `text_zh`, `text_en`,
    /// and `draft` (default false). A version already recorded is refused.
    AddVersion {
        /// The TOML file.
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        operator: OperatorArg,
    },
    /// Lists every consent text, in the order they took over, the one in force last.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[cfg(feature = "http")]
#[derive(Subcommand)]
enum ConfigCommand {
    /// Loads the configuration exactly as `ecpa serve` would (file, then ECPA_* variables),
    /// opens the database and the mailer, loads the trust anchors and CRLs (fetching the CRL
    /// URLs), and prints every setting's effective value and where it came from, secrets
    /// masked. Exit 1 on any problem.
    Check {
        /// A TOML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
        /// The database URL, over the file and the environment (as `ecpa serve --db`).
        #[arg(long)]
        db: Option<String>,
    },
}

#[derive(Subcommand)]
enum CardCommand {
    /// Lists the readers and the kind of card in each (nhi / moica / unknown / empty).
    List {
        /// How long the PC/SC service may take to answer, in seconds.
        #[arg(long, default_value_t = 5.0)]
        timeout: f64,
    },
    /// Reads the NHI card's basic data; the ID and card number are masked unless --reveal.
    Read {
        /// The reader (its full name, or the start of it); default: whichever holds an NHI card.
        #[arg(long)]
        reader: Option<String>,
        /// Print the national ID and the card number in full.
        #[arg(long)]
        reveal: bool,
        /// How long to wait for a card to be inserted, in seconds.
        #[arg(long, default_value_t = 0.0)]
        wait: f64,
    },
}

#[derive(Subcommand)]
enum CertCommand {
    /// Shows a certificate's MOICA-profile fields (DER or PEM).
    Show {
        /// The certificate file.
        file: PathBuf,
    },
    /// Validates a certificate's path to trust anchors (RFC 5280): exit 0 valid, 1 invalid.
    Verify {
        /// The certificate to validate (DER or PEM).
        leaf: PathBuf,
        /// Trust anchors: files (PEM bundles or DER) or directories of them.
        #[arg(long, required = true, num_args = 1..)]
        anchors: Vec<PathBuf>,
        /// Intermediate certificates: files or directories.
        #[arg(long, num_args = 1..)]
        intermediates: Vec<PathBuf>,
        /// CRLs (PEM or DER): files or directories; with any, revocation is checked.
        #[arg(long, num_args = 1..)]
        crl: Vec<PathBuf>,
        /// Validation time, RFC 3339 (default: now).
        #[arg(long)]
        at: Option<String>,
        /// The policy OID the path must carry, or `any`.
        #[arg(long, default_value = "2.16.886.101.0.3.3")]
        policy: String,
    },
}

#[derive(Subcommand)]
enum CrlCommand {
    /// Loads a CRL (PEM or DER), verifies it with --issuer and indexes it, then answers per
    /// serial whether it is revoked. Serials in hex as OpenSSL prints them (`0x` optional, any
    /// case). Exit 0 every serial answered and none revoked; 1 a serial is revoked, or the CRL is
    /// malformed, badly signed or stale; 2 a usage or I/O error.
    Check {
        /// The CRL file.
        crl: PathBuf,
        /// The serials to look up.
        #[arg(required = true)]
        serials: Vec<String>,
        /// The CRL issuer's certificate (DER or PEM): without it the signature is not checked.
        #[arg(long)]
        issuer: Option<PathBuf>,
        /// Answer from a CRL past its nextUpdate instead of failing with crl_stale.
        #[arg(long)]
        allow_stale: bool,
        /// The time the CRL must be current at, RFC 3339 (default: now).
        #[arg(long)]
        at: Option<String>,
    },
}

#[derive(Subcommand)]
enum IdCommand {
    /// Validates IDs: format, check digit, kind and sex.
    Check {
        /// The IDs to check.
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

/// A failure the command reports: its exit code and the error.
struct Failure {
    exit: u8,
    error: Error,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let exit = if matches!(error.code(), ErrorCode::IoFailed | ErrorCode::CardSupportMissing) {
            2
        } else {
            1
        };
        Failure { exit, error }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = cli.out;
    let result = match cli.command {
        Command::Demo { db } => demo(out, db),
        Command::Doctor {
            pkcs11_module,
            anchors,
            portal,
            timeout,
        } => doctor(out, pkcs11_module, anchors, portal, timeout),
        Command::Id {
            command: IdCommand::Check { ids },
        } => id_check(out, &ids),
        Command::Card {
            command: CardCommand::List { timeout },
        } => card_list(out, timeout),
        Command::Card {
            command: CardCommand::Read { reader, reveal, wait },
        } => card_read(out, reader.as_deref(), reveal, wait),
        Command::Cert {
            command: CertCommand::Show { file },
        } => cert_show(out, &file),
        Command::Cert {
            command:
                CertCommand::Verify {
                    leaf,
                    anchors,
                    intermediates,
                    crl,
                    at,
                    policy,
                },
        } => cert_verify(out, &leaf, &anchors, &intermediates, &crl, at.as_deref(), &policy),
        Command::Crl {
            command:
                CrlCommand::Check {
                    crl,
                    serials,
                    issuer,
                    allow_stale,
                    at,
                },
        } => crl_check(out, &crl, &serials, issuer.as_deref(), allow_stale, at.as_deref()),
        #[cfg(feature = "http")]
        Command::Serve { db, listen, config } => serve(out, db, listen, config),
        #[cfg(feature = "http")]
        Command::Agent {
            listen,
            pkcs11_module,
            allow_origins,
            legacy_origins,
            config,
            print_service,
        } => agent(
            out,
            AgentArgs {
                listen,
                pkcs11_module,
                allow_origins,
                legacy_origins,
                config,
                print_service,
            },
        ),
        #[cfg(feature = "http")]
        Command::Config {
            command: ConfigCommand::Check { config, db },
        } => config_check(out, config, db),
        #[cfg(feature = "http")]
        Command::Directory {
            command:
                DirectoryCommand::Import {
                    file,
                    encoding,
                    db,
                    operator,
                },
        } => ops::directory_import(out, &file, &encoding, &db, &operator),
        #[cfg(feature = "http")]
        Command::Outbox {
            command: OutboxCommand::Deliver { once, db },
        } => ops::outbox_deliver(out, once, &db),
        #[cfg(feature = "http")]
        Command::Migrate { db } => ops::migrate(out, &db),
        #[cfg(feature = "http")]
        Command::Maintenance { command } => ops::maintenance(out, command),
        #[cfg(feature = "http")]
        Command::Announce { command } => ops::announce(out, command),
        #[cfg(feature = "http")]
        Command::Consent { command } => ops::consent(out, command),
        #[cfg(feature = "http")]
        Command::Backup {
            file,
            force,
            db,
            operator,
        } => ops::backup(out, &file, force, &db, &operator),
        #[cfg(feature = "http")]
        Command::Registration {
            command: RegistrationCommand::Stop(person),
        } => ops::revoke(out, &person, ops::Revoke::NhiRegistration),
        #[cfg(feature = "http")]
        Command::Certificate {
            command: CertificateCommand::Unbind(person),
        } => ops::revoke(out, &person, ops::Revoke::CertificateBinding),
        #[cfg(feature = "http")]
        Command::Purge {
            audit_retention_years,
            db,
            operator,
        } => ops::purge(out, audit_retention_years, &db, &operator),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            let e = &f.error;
            let lines = e.line_errors();
            if out.json {
                let mut body = serde_json::json!({
                    "error_code": e.code().number(),
                    "error": e.code().to_string(),
                    "message": e.message(out.lang),
                });
                if !lines.is_empty() {
                    body["lines"] = lines
                        .iter()
                        .map(|l| {
                            serde_json::json!({
                                "line": l.line,
                                "error_code": l.code.number(),
                                "error": l.code.to_string(),
                                "message": l.message.get(out.lang),
                            })
                        })
                        .collect();
                }
                println!("{body}");
            }
            if lines.is_empty() {
                eprintln!("{}: {}", e.code(), e.message(out.lang));
            } else {
                // Every bad line, one per line, so the whole file can be fixed in one pass.
                let n = lines.len();
                eprintln!(
                    "{}: {}{}",
                    e.code(),
                    e.code().message(out.lang),
                    out.lang.pick(&format!("：共 {n} 行錯誤"), &format!(": {n} bad lines"))
                );
                for l in lines {
                    eprintln!("  {}", l.describe(out.lang));
                }
            }
            ExitCode::from(f.exit)
        }
    }
}

#[cfg(feature = "http")]
#[path = "ecpa/ops.rs"]
mod ops;

#[cfg(feature = "http")]
fn serve(out: Output, db: Option<String>, listen: Option<String>, config: Option<PathBuf>) -> Result<u8, Failure> {
    let mut config = ecpa::config::Config::load(config.as_deref()).map_err(|error| Failure { exit: 2, error })?;
    // The command line wins over the file and the environment.
    if let Some(db) = db {
        config.database.url = db;
    }
    if let Some(listen) = listen {
        config.server.listen = listen;
    }
    ecpa::http::serve(&config, |server| {
        let url = server.url();
        // Never the database password, which a postgres:// URL may hold.
        let database = config.database.redacted_url();
        let mut stdout = std::io::stdout().lock();
        if out.json {
            let _ = writeln!(
                stdout,
                "{}",
                serde_json::json!({ "listening": url, "database": database })
            );
        } else {
            let _ = writeln!(
                stdout,
                "{}",
                out.lang.pick(
                    &format!("ecpa serve 服務中：{url}（資料庫 {database}）"),
                    &format!("ecpa serve listening on {url} (database {database})"),
                )
            );
        }
        let _ = stdout.flush();
    })?;
    Ok(0)
}

/// `ecpa agent`'s flags.
#[cfg(feature = "http")]
#[cfg_attr(not(feature = "card"), allow(dead_code))]
struct AgentArgs {
    listen: Option<String>,
    pkcs11_module: Option<PathBuf>,
    allow_origins: Vec<String>,
    legacy_origins: Vec<String>,
    config: Option<PathBuf>,
    print_service: Option<String>,
}

#[cfg(all(feature = "http", not(feature = "card")))]
fn agent(_out: Output, _args: AgentArgs) -> Result<u8, Failure> {
    Err(Error::new(ErrorCode::CardSupportMissing).into())
}

#[cfg(all(feature = "http", feature = "card"))]
fn agent(out: Output, args: AgentArgs) -> Result<u8, Failure> {
    let config = ecpa::config::Config::load(args.config.as_deref()).map_err(|error| Failure { exit: 2, error })?;
    // The flags over the file and the environment; listed origins add to the configured ones.
    let mut settings = config.agent.clone();
    if let Some(listen) = args.listen {
        settings.listen = listen;
    }
    if args.pkcs11_module.is_some() {
        settings.pkcs11_module = args.pkcs11_module;
    }
    settings.allow_origins.extend(args.allow_origins);
    settings.legacy_origins.extend(args.legacy_origins);
    if let Some(kind) = args.print_service {
        let program = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "ecpa".into());
        let mut line = vec!["agent".to_owned(), "--listen".to_owned(), settings.listen.clone()];
        if let Some(c) = &args.config {
            line.extend(["--config".to_owned(), c.display().to_string()]);
        }
        print!(
            "{}",
            ecpa::agent::service_definition(&kind, &program, &line).map_err(usage)?
        );
        return Ok(0);
    }
    let portal = ecpa::portal::LocalPortal::public_origin_of(&config.portal_config().map_err(usage)?)?;
    let agent = ecpa::agent::Agent::new(&settings, Some(&portal)).map_err(usage)?;
    let listener = agent.bind()?;
    agent.serve(listener, |addr| {
        let origins: Vec<&str> = agent.origins.allowed().collect();
        let mut stdout = std::io::stdout().lock();
        if out.json {
            let _ = writeln!(
                stdout,
                "{}",
                serde_json::json!({ "listening": format!("http://{addr}"), "origins": origins })
            );
        } else {
            let _ = writeln!(
                stdout,
                "{}",
                out.lang.pick(
                    &format!("ecpa agent 服務中：http://{addr}（允許的網站：{}）", origins.join("、")),
                    &format!(
                        "ecpa agent listening on http://{addr} (allowed sites: {})",
                        origins.join(", ")
                    ),
                )
            );
        }
        let _ = stdout.flush();
    })?;
    Ok(0)
}

/// One line of `ecpa config check` beyond the settings: a part it opened or loaded.
#[cfg(feature = "http")]
#[derive(Serialize)]
struct ConfigFinding {
    id: String,
    ok: bool,
    detail: String,
}

#[cfg(feature = "http")]
fn config_check(out: Output, config: Option<PathBuf>, db: Option<String>) -> Result<u8, Failure> {
    use ecpa::config::{Config, Setting, Source};
    let lang = out.lang;
    let (mut config, mut settings) = Config::load_with_sources(config.as_deref())?;
    if let Some(db) = db {
        config.database.url = db;
        if let Some(s) = settings.iter_mut().find(|s| s.key == "database.url") {
            *s = Setting {
                key: s.key.clone(),
                value: format!("\"{}\"", config.database.redacted_url()),
                source: Source::Flag,
            };
        }
    }
    let failed = |e: &Error| format!("{}: {}", e.code(), e.message(lang));
    let mut findings = Vec::new();
    let database = config.database.redacted_url();
    let kind = ecpa::http::server::database_kind(&config.database.url);
    let sqlite_file = PathBuf::from(ecpa::store::sqlite_path(config.database.url.trim()));
    // A check opens what exists; it does not create a database where none is yet.
    let not_yet = kind == "sqlite" && !sqlite_file.exists();
    let opened = (!not_yet).then(|| ecpa::config::open_database(&config.database));
    findings.push(match &opened {
        None => {
            let parent = sqlite_file.parent().filter(|p| !p.as_os_str().is_empty());
            let ok = parent.is_none_or(Path::is_dir);
            ConfigFinding {
                id: "database".into(),
                ok,
                detail: if ok {
                    lang.pick(
                        &format!("{database}：尚不存在，ecpa serve 或 ecpa migrate 會建立"),
                        &format!("{database}: does not exist yet; ecpa serve or ecpa migrate creates it"),
                    )
                    .to_owned()
                } else {
                    lang.pick(
                        &format!("{database}：所在資料夾不存在"),
                        &format!("{database}: its folder does not exist"),
                    )
                    .to_owned()
                },
            }
        }
        Some(Ok(_)) => ConfigFinding {
            id: "database".into(),
            ok: true,
            detail: format!("{kind} ({database})"),
        },
        Some(Err(e)) => ConfigFinding {
            id: "database".into(),
            ok: false,
            detail: format!("{database}: {}", failed(e)),
        },
    });
    // The single sign-on links: their form was checked with the file; their codes are
    // checked against the catalogue of the database, when it is at this build's schema.
    let links = config.portal.application_links().unwrap_or_default();
    let listed = || {
        let shown: Vec<String> = links.iter().map(|l| format!("{} → {}", l.code, l.url)).collect();
        shown.join(", ")
    };
    findings.push(match (&opened, links.is_empty()) {
        (_, true) => ConfigFinding {
            id: "applications".into(),
            ok: true,
            detail: lang
                .pick(
                    "未設定單一登入的應用系統：開啟應用系統僅回傳目錄資料",
                    "no applications for single sign-on: opening one gives its catalogue entry only",
                )
                .into(),
        },
        (Some(Ok(store)), false) => match ecpa::portal::apps::check_links(store.as_ref(), &links) {
            Ok(Some(_)) => ConfigFinding {
                id: "applications".into(),
                ok: true,
                detail: listed(),
            },
            Ok(None) => ConfigFinding {
                id: "applications".into(),
                ok: true,
                detail: format!(
                    "{}{}",
                    listed(),
                    lang.pick(
                        "（資料庫尚未更新，代碼於 ecpa serve 啟動時檢查）",
                        " (the database is not migrated yet: the codes are checked when ecpa serve starts)"
                    )
                ),
            },
            Err(e) => ConfigFinding {
                id: "applications".into(),
                ok: false,
                detail: failed(&e),
            },
        },
        (_, false) => ConfigFinding {
            id: "applications".into(),
            ok: true,
            detail: format!(
                "{}{}",
                listed(),
                lang.pick(
                    "（代碼於 ecpa serve 啟動時檢查）",
                    " (the codes are checked when ecpa serve starts)"
                )
            ),
        },
    });
    findings.push(match ecpa::config::open_mailer(&config) {
        Ok(_) => ConfigFinding {
            id: "mail".into(),
            ok: true,
            detail: config.mail.kind.clone(),
        },
        Err(e) => ConfigFinding {
            id: "mail".into(),
            ok: false,
            detail: failed(&e),
        },
    });
    match ecpa::http::server::load_trust(&config.trust) {
        Ok(None) => findings.push(ConfigFinding {
            id: "trust".into(),
            ok: true,
            detail: lang
                .pick(
                    "未設定信任錨：自然人憑證登入關閉",
                    "no anchors: certificate logins are off",
                )
                .into(),
        }),
        Ok(Some((_, feed))) => {
            let status = feed.status(time::OffsetDateTime::now_utc());
            findings.push(ConfigFinding {
                id: "trust".into(),
                ok: true,
                detail: format!(
                    "{} anchors, {} intermediates, policy {}",
                    status.anchors, status.intermediates, status.policy
                ),
            });
            for c in &status.crls {
                let next = c.next_update.map(|n| n.to_string()).unwrap_or_default();
                let detail = match (&c.last_error, c.fresh) {
                    (Some(e), _) => format!("{}: {e}", c.source),
                    (None, true) => format!(
                        "{} — {} ({} entries, next update {next})",
                        c.source, c.issuer, c.entries
                    ),
                    (None, false) => format!("{} — {}: stale since {next}", c.source, c.issuer),
                };
                findings.push(ConfigFinding {
                    id: "trust.crl".into(),
                    ok: c.fresh && c.last_error.is_none(),
                    detail,
                });
            }
        }
        Err(e) => findings.push(ConfigFinding {
            id: "trust".into(),
            ok: false,
            detail: failed(&e),
        }),
    }
    let ok = findings.iter().all(|f| f.ok);
    let mut stdout = std::io::stdout().lock();
    if out.json {
        let body = serde_json::json!({ "ok": ok, "settings": settings, "checks": findings });
        let _ = writeln!(stdout, "{body}");
    } else {
        for s in &settings {
            let source = match s.source {
                Source::Default => lang.pick("預設", "default"),
                Source::File => lang.pick("設定檔", "file"),
                Source::Env => lang.pick("環境變數", "environment"),
                Source::Flag => lang.pick("命令列", "command line"),
            };
            let _ = writeln!(stdout, "{} = {}    ({source})", s.key, s.value);
        }
        let _ = writeln!(stdout);
        for f in &findings {
            let mark = if f.ok {
                lang.pick("正常", "ok")
            } else {
                lang.pick("失敗", "FAIL")
            };
            let _ = writeln!(stdout, "[{mark}] {}: {}", f.id, f.detail);
        }
        let _ = writeln!(
            stdout,
            "{}",
            if ok {
                lang.pick("設定可用。", "The configuration is usable.")
            } else {
                lang.pick("設定有問題，請依上列處理。", "The configuration has problems (above).")
            }
        );
    }
    Ok(if ok { 0 } else { 1 })
}

fn demo(out: Output, db: Option<PathBuf>) -> Result<u8, Failure> {
    let dir = tempfile::Builder::new()
        .prefix("ecpa-demo-")
        .tempdir()
        .map_err(Error::from)?
        .keep();
    let mut steps = Vec::new();
    let mut stdout = std::io::stdout().lock();
    let summary = demo::run(&dir, db.as_deref(), out.lang, &mut |step| {
        if out.json {
            steps.push(step.clone());
        } else {
            let _ = writeln!(stdout, "\n【{}】{}", step.number, step.title);
            for line in &step.lines {
                let _ = writeln!(stdout, "  {line}");
            }
        }
    })?;
    if out.json {
        let body = serde_json::json!({ "steps": steps, "summary": summary });
        let _ = writeln!(stdout, "{body}");
    } else {
        let (db, mail) = (summary.database.display(), summary.maildir.display());
        let _ = writeln!(
            stdout,
            "\n{}",
            out.lang.pick(
                &format!("完成 {} 個步驟。資料庫：{db}；寄出的信件：{mail}", summary.steps),
                &format!("Done: {} steps. Database: {db}; mail sent: {mail}", summary.steps),
            )
        );
    }
    Ok(0)
}

fn doctor(
    out: Output,
    pkcs11_module: Option<PathBuf>,
    anchors: Option<PathBuf>,
    portal: Option<String>,
    timeout: f64,
) -> Result<u8, Failure> {
    use ecpa::doctor::{DoctorOptions, Status};
    let timeout = std::time::Duration::try_from_secs_f64(timeout)
        .ok()
        .filter(|t| !t.is_zero())
        .ok_or_else(|| {
            usage(Error::with(
                ErrorCode::FieldInvalid,
                "--timeout 應為正數秒數",
                "--timeout must be a positive number of seconds",
            ))
        })?;
    let options = DoctorOptions {
        pkcs11_module,
        anchors,
        portal,
        timeout,
    };
    let report = ecpa::doctor::run(&options, std::sync::Arc::from(ecpa::doctor::pcsc_probe()));
    let mut stdout = std::io::stdout().lock();
    if out.json {
        let body = serde_json::json!({ "ok": !report.failed(), "rows": report.rows });
        let _ = writeln!(stdout, "{body}");
    } else {
        let lang = out.lang;
        for row in &report.rows {
            let mark = match row.status {
                Status::Ok => lang.pick("正常", "ok"),
                Status::Warn => lang.pick("注意", "warn"),
                Status::Fail => lang.pick("失敗", "FAIL"),
            };
            let _ = writeln!(stdout, "[{mark}] {}", row.title.get(lang));
            let _ = writeln!(
                stdout,
                "    {}{}",
                lang.pick("目前：", "found:    "),
                row.found.get(lang)
            );
            let _ = writeln!(
                stdout,
                "    {}{}",
                lang.pick("建議：", "expected: "),
                row.expected.get(lang)
            );
            if let Some(fix) = &row.fix {
                let _ = writeln!(stdout, "    {}{}", lang.pick("處理：", "fix:      "), fix.get(lang));
            }
        }
        let attention = report.attention();
        let summary = if report.failed() {
            lang.pick("有未通過的項目。", "Some checks failed.").to_owned()
        } else if attention > 0 {
            lang.pick(
                &format!("沒有失敗的項目，但有 {attention} 項需要注意或未能檢查。"),
                &format!("No check failed, but {attention} rows need attention or could not be checked."),
            )
            .to_owned()
        } else {
            lang.pick("所有項目皆通過。", "All checks passed.").to_owned()
        };
        let _ = writeln!(stdout, "{summary}");
    }
    Ok(if report.failed() { 1 } else { 0 })
}

fn cert_show(out: Output, file: &std::path::Path) -> Result<u8, Failure> {
    let bytes = std::fs::read(file).map_err(|e| Failure {
        exit: 2,
        error: Error::from(e),
    })?;
    let p = ecpa::pki::Certificate::parse(&bytes)?.profile()?;
    let mut stdout = std::io::stdout().lock();
    if out.json {
        let _ = writeln!(stdout, "{}", serde_json::to_string(&p).unwrap_or_default());
        return Ok(0);
    }
    let l = |zh: &'static str, en: &'static str| out.lang.pick(zh, en);
    let none = l("（無）", "(none)");
    let list = |v: &[String]| if v.is_empty() { none.to_owned() } else { v.join(", ") };
    let purpose = match p.purpose {
        ecpa::pki::Purpose::Ca => l("憑證機構", "certification authority"),
        ecpa::pki::Purpose::Signing => l("簽章用（登入使用此張）", "signing (used for login)"),
        ecpa::pki::Purpose::Encryption => l("加密用", "encryption"),
        ecpa::pki::Purpose::Unspecified => l("未指定", "unspecified"),
    };
    let rows = [
        (l("主體", "subject"), p.subject.clone()),
        (l("簽發者", "issuer"), p.issuer.clone()),
        (l("序號", "serial"), p.serial.clone()),
        (
            l("主體序號屬性", "subject serialNumber"),
            p.subject_serial_number.clone().unwrap_or_else(|| none.into()),
        ),
        (
            l("身分證末四碼", "ID last four digits"),
            p.id_last_four.clone().unwrap_or_else(|| none.into()),
        ),
        (l("有效期間起", "valid from"), p.not_before.clone()),
        (l("有效期間迄", "valid until"), p.not_after.clone()),
        (l("用途", "purpose"), purpose.to_owned()),
        (l("憑證政策", "policies"), list(&p.policies)),
        (l("公開金鑰", "public key"), p.public_key.clone()),
        (l("CRL 發布點", "CRL distribution points"), list(&p.crl_urls)),
        (l("OCSP", "OCSP"), list(&p.ocsp_urls)),
        (l("簽發者憑證位置", "issuer certificate URLs"), list(&p.ca_issuer_urls)),
        (
            l("主體金鑰識別碼", "subject key ID"),
            p.subject_key_id.clone().unwrap_or_else(|| none.into()),
        ),
        (
            l("簽發者金鑰識別碼", "authority key ID"),
            p.authority_key_id.clone().unwrap_or_else(|| none.into()),
        ),
        (l("SHA-256 指紋", "SHA-256 fingerprint"), p.sha256_fingerprint.clone()),
    ];
    for (k, v) in rows {
        let _ = writeln!(stdout, "{k}: {v}");
    }
    Ok(0)
}

/// A usage or I/O failure: exit 2.
fn usage(error: Error) -> Failure {
    Failure { exit: 2, error }
}

#[derive(Serialize)]
struct VerifyResult {
    valid: bool,
    error_code: Option<u32>,
    error: Option<String>,
    message: Option<String>,
    path: Vec<String>,
}

fn cert_verify(
    out: Output,
    leaf: &std::path::Path,
    anchors: &[PathBuf],
    intermediates: &[PathBuf],
    crls: &[PathBuf],
    at: Option<&str>,
    policy: &str,
) -> Result<u8, Failure> {
    use ecpa::pki::{Certificate, Crl, TrustAnchor, ValidationOptions, Validator};
    let leaf = Certificate::parse(&std::fs::read(leaf).map_err(|e| usage(e.into()))?).map_err(usage)?;
    let mut trusted = Vec::new();
    for a in anchors {
        trusted.extend(TrustAnchor::load(a).map_err(usage)?);
    }
    let mut validator = Validator::new(trusted);
    for i in intermediates {
        validator.add_intermediates(ecpa::pki::path::load_certificates(i).map_err(usage)?);
    }
    let at = match at {
        None => time::OffsetDateTime::now_utc(),
        Some(t) => time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map_err(|e| usage(Error::with(ErrorCode::DateInvalid, e.to_string(), e.to_string())))?,
    };
    let mut opts = ValidationOptions::at(at);
    opts.required_policy = match policy {
        "any" => None,
        oid => Some(oid.parse().map_err(|_| {
            usage(Error::with(
                ErrorCode::FieldInvalid,
                format!("政策 {oid}"),
                format!("policy {oid}"),
            ))
        })?),
    };
    for c in crls {
        opts.crls.extend(Crl::load(c).map_err(usage)?);
    }
    let result = validator.validate(&leaf, &opts);
    let r = match &result {
        Ok(path) => VerifyResult {
            valid: true,
            error_code: None,
            error: None,
            message: None,
            path: path.subjects(),
        },
        Err(e) => VerifyResult {
            valid: false,
            error_code: Some(e.code().number()),
            error: Some(e.code().name().to_owned()),
            message: Some(e.message(out.lang)),
            path: Vec::new(),
        },
    };
    let mut stdout = std::io::stdout().lock();
    if out.json {
        let _ = writeln!(stdout, "{}", serde_json::to_string(&r).unwrap_or_default());
    } else if r.valid {
        let _ = writeln!(
            stdout,
            "{}",
            out.lang.pick("憑證路徑有效：", "The certificate path is valid:")
        );
        for (i, s) in r.path.iter().enumerate() {
            let _ = writeln!(stdout, "  {i}. {s}");
        }
    } else {
        let _ = writeln!(
            stdout,
            "{} {}",
            out.lang.pick("憑證路徑無效：", "The certificate path is invalid:"),
            r.message.clone().unwrap_or_default()
        );
    }
    Ok(if r.valid { 0 } else { 1 })
}

#[derive(Serialize)]
struct CrlAnswer {
    serial: String,
    revoked: bool,
    reason: Option<String>,
    date: Option<String>,
}

/// A serial as OpenSSL prints it (`0x` optional, `:` separators allowed) to unsigned bytes.
fn parse_serial(s: &str) -> Result<Vec<u8>, Failure> {
    let digits: String = s
        .trim()
        .trim_start_matches("0x")
        .trim_start_matches("0X")
        .chars()
        .filter(|c| *c != ':')
        .collect();
    let padded = if digits.len() % 2 == 1 {
        format!("0{digits}")
    } else {
        digits
    };
    match hex::decode(&padded) {
        Ok(bytes) if !bytes.is_empty() => Ok(bytes),
        _ => Err(usage(Error::with(
            ErrorCode::FieldInvalid,
            format!("序號 {s} 不是十六進位數"),
            format!("serial {s} is not a hex number"),
        ))),
    }
}

fn parse_at(at: Option<&str>) -> Result<time::OffsetDateTime, Failure> {
    match at {
        None => Ok(time::OffsetDateTime::now_utc()),
        Some(t) => time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map_err(|e| usage(Error::with(ErrorCode::DateInvalid, e.to_string(), e.to_string()))),
    }
}

fn crl_check(
    out: Output,
    crl: &std::path::Path,
    serials: &[String],
    issuer: Option<&std::path::Path>,
    allow_stale: bool,
    at: Option<&str>,
) -> Result<u8, Failure> {
    use ecpa::pki::{Certificate, Crl, CrlOptions};
    let wanted = serials.iter().map(|s| parse_serial(s)).collect::<Result<Vec<_>, _>>()?;
    let opts = CrlOptions {
        at: parse_at(at)?,
        allow_stale,
    };
    let issuer = match issuer {
        Some(p) => Some(Certificate::parse(&std::fs::read(p).map_err(|e| usage(e.into()))?).map_err(usage)?),
        None => None,
    };
    let bytes = std::fs::read(crl).map_err(|e| usage(e.into()))?;
    let list = match &issuer {
        Some(cert) => Crl::load_verified(&bytes, cert.public_key().map_err(usage)?, &opts)?,
        None => {
            let list = Crl::parse_one(&bytes)?;
            list.check_current(&opts)?;
            eprintln!(
                "{}",
                out.lang.pick(
                    "注意：未指定 --issuer，未驗證廢止清冊的簽章",
                    "note: no --issuer given, the CRL's signature was not verified",
                )
            );
            list
        }
    };
    drop(bytes);
    let answers: Vec<CrlAnswer> = wanted
        .iter()
        .map(|serial| {
            let digits = &serial[serial.iter().take_while(|b| **b == 0).count()..];
            let shown = if digits.is_empty() {
                "00".to_owned()
            } else {
                hex::encode_upper(digits)
            };
            // An entry saying removeFromCRL (delta CRLs) means not revoked.
            let hit = list
                .lookup_unsigned(serial)
                .filter(|r| r.reason != Some(ecpa::pki::RevocationReason::REMOVE_FROM_CRL));
            CrlAnswer {
                serial: shown,
                revoked: hit.is_some(),
                reason: hit.and_then(|r| r.reason).map(|r| r.name()),
                date: hit.and_then(|r| r.date.format(&time::format_description::well_known::Rfc3339).ok()),
            }
        })
        .collect();
    let mut stdout = std::io::stdout().lock();
    if out.json {
        let _ = writeln!(stdout, "{}", serde_json::to_string(&answers).unwrap_or_default());
    } else {
        for a in &answers {
            let line = match (a.revoked, &a.reason, &a.date) {
                (false, _, _) => format!("{}  {}", a.serial, out.lang.pick("未廢止", "not revoked")),
                (true, reason, date) => format!(
                    "{}  {}  {}  {}",
                    a.serial,
                    out.lang.pick("已廢止", "revoked"),
                    date.clone().unwrap_or_default(),
                    reason.clone().unwrap_or_default()
                ),
            };
            let _ = writeln!(stdout, "{}", line.trim_end());
        }
    }
    Ok(if answers.iter().any(|a| a.revoked) { 1 } else { 0 })
}

#[derive(Serialize)]
struct IdResult {
    input: String,
    valid: bool,
    kind: Option<&'static str>,
    sex: Option<&'static str>,
    error: Option<String>,
    error_code: Option<u32>,
    message: Option<String>,
}

fn id_check(out: Output, ids: &[String]) -> Result<u8, Failure> {
    let results: Vec<IdResult> = ids
        .iter()
        .map(|input| match NationalId::parse(input) {
            Ok(id) => IdResult {
                input: input.clone(),
                valid: true,
                kind: Some(id.kind().as_str()),
                sex: Some(id.sex().as_str()),
                error: None,
                error_code: None,
                message: None,
            },
            Err(e) => IdResult {
                input: input.clone(),
                valid: false,
                kind: None,
                sex: None,
                error: Some(e.code().to_string()),
                error_code: Some(e.code().number()),
                message: Some(e.message(out.lang)),
            },
        })
        .collect();
    let mut stdout = std::io::stdout().lock();
    if out.json {
        // JSON echoes each input as given, so a caller can match answers to questions;
        // human output masks it like everything else printed.
        let _ = writeln!(stdout, "{}", serde_json::to_string(&results).unwrap_or_default());
    } else {
        for (r, input) in results.iter().zip(ids) {
            let shown = NationalId::parse(input)
                .map(|id| id.masked())
                .unwrap_or_else(|_| mask_text(input));
            let line = match (r.valid, r.kind, r.sex) {
                (true, Some(kind), Some(sex)) => out
                    .lang
                    .pick(
                        &format!(
                            "{shown}　正確　{}　{}",
                            kind_label(kind, Lang::ZhTw),
                            if sex == "male" { "男" } else { "女" }
                        ),
                        &format!("{shown}  valid  {}  {sex}", kind_label(kind, Lang::En)),
                    )
                    .to_owned(),
                _ => format!(
                    "{shown}　{}",
                    r.error.clone().unwrap_or_default() + " " + &r.message.clone().unwrap_or_default()
                ),
            };
            let _ = writeln!(stdout, "{line}");
        }
    }
    Ok(if results.iter().all(|r| r.valid) { 0 } else { 1 })
}

fn kind_label(kind: &str, lang: Lang) -> &'static str {
    match kind {
        "national" => lang.pick("國民身分證", "national ID"),
        "resident_old" => lang.pick("居留證（舊式）", "resident certificate (old style)"),
        _ => lang.pick("居留證（新式）", "resident certificate (new style)"),
    }
}

/// Masks anything that might be an ID: the first six characters, then asterisks.
fn mask_text(s: &str) -> String {
    let shown: String = s.chars().take(6).collect();
    if s.chars().count() > 6 {
        format!("{shown}****")
    } else {
        shown
    }
}

/// Seconds from the command line as a duration; negative, NaN or absurd values are usage errors.
fn seconds(s: f64) -> Result<std::time::Duration, Failure> {
    std::time::Duration::try_from_secs_f64(s).map_err(|_| {
        usage(Error::with(
            ErrorCode::FieldInvalid,
            format!("秒數 {s} 不正確"),
            format!("{s} is not a valid number of seconds"),
        ))
    })
}

fn card_list(out: Output, timeout: f64) -> Result<u8, Failure> {
    let readers = ecpa::card::list_readers(seconds(timeout)?)?;
    let mut stdout = std::io::stdout().lock();
    if out.json {
        let _ = writeln!(stdout, "{}", serde_json::to_string(&readers).unwrap_or_default());
    } else if readers.is_empty() {
        let _ = writeln!(stdout, "{}", out.lang.pick("沒有讀卡機", "No card readers"));
    } else {
        for r in &readers {
            let atr = r.atr.as_deref().map(hex::encode_upper).unwrap_or_default();
            let _ = writeln!(stdout, "{}\t{}\t{atr}", r.name, r.kind.label(out.lang));
        }
    }
    Ok(0)
}

fn card_read(out: Output, reader: Option<&str>, reveal: bool, wait: f64) -> Result<u8, Failure> {
    let reading = ecpa::card::read_nhi_card(reader, seconds(wait)?)?;
    let d = &reading.data;
    let r = ecpa::card::NhiCardView::of(Some(&reading.reader), d, reveal);
    let mut stdout = std::io::stdout().lock();
    if out.json {
        let _ = writeln!(stdout, "{}", serde_json::to_string(&r).unwrap_or_default());
        return Ok(0);
    }
    let l = |zh: &'static str, en: &'static str| out.lang.pick(zh, en);
    let sex = match d.sex {
        ecpa::types::Sex::Male => l("男", "male"),
        ecpa::types::Sex::Female => l("女", "female"),
    };
    let name = if d.name.lossy {
        format!(
            "{} {}{}",
            r.name,
            l(
                "（含無法解碼的字元，原始位元組 ",
                "(holds undecodable characters, raw bytes "
            ),
            r.name_raw
        ) + l("）", ")")
    } else {
        r.name.clone()
    };
    let rows = [
        (l("讀卡機", "reader"), reading.reader.clone()),
        (l("卡號", "card number"), r.card_number.clone()),
        (l("姓名", "name"), name),
        (l("身分證號", "national ID"), r.national_id.clone()),
        (
            l("出生日期", "birth date"),
            format!("{} ({})", r.birth_date, r.birth_date_iso),
        ),
        (l("性別", "sex"), sex.to_owned()),
        (
            l("發卡日期", "issue date"),
            format!("{} ({})", r.issue_date, r.issue_date_iso),
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(stdout, "{k}: {v}");
    }
    Ok(0)
}
