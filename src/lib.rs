//! claimscrub: a terminology service and professional-claim scrubber for US
//! healthcare clearinghouses, served over gRPC on PostgreSQL.
//!
//! # Layout
//!
//! Four layers with a one-way dependency rule (outer layers call inner ones):
//!
//! - [`domain`] and [`rules`] are pure: code systems, releases and their
//!   date-of-service resolution, claims, findings, search, procedure
//!   knowledge, the request limits (`domain::limits`: what an 837P cannot
//!   carry is refused at the door, naming every field), and the rule engine
//!   (one rule per file, payer settings as data). A rule reports into a
//!   `rules::Report`: findings, each with the fixes a machine can apply
//!   (`domain::finding::FieldFix`, applied by `Claim::apply_fix`), and what
//!   it could not check and why (`domain::finding::NotChecked`), which every
//!   answer and audit record carry beside the findings. No tokio, sqlx or
//!   tonic, so every rule is a plain `#[test]`.
//! - [`app`] holds the use cases (async): the in-memory catalog (a
//!   [`domain::catalog::CatalogSnapshot`] swapped atomically on reload, also
//!   when another process imports a release), the default data set, imports,
//!   lookups and profiles, claim validation with its group-commit audit
//!   writer and batched history reader (both on `app::batcher`, whose
//!   `Isolation` splits a group the database refuses so only the refused
//!   rows fail; the writer re-checks the history edits under per-member
//!   advisory locks, so they hold across replicas), the batch stream
//!   pipeline (`app::batch`: reader, evaluator, writer, all bounded; its
//!   chunks take the same locks and isolation),
//!   the audit queries, exports and replays with the monthly partitions
//!   made ahead (`app::audit`), and the API keys that name each caller
//!   and hold its scopes (`domain::access` has the one table of which scope
//!   each RPC needs; `grpc::interceptor` enforces it), the per-caller
//!   limits (`app::rate_limit`, `app::stream_limit`), and the metrics
//!   (`app::metrics` names every series).
//! - [`storage`] is the only place SQL lives (sqlx, PostgreSQL): pool, database
//!   creation (and the private cluster of development mode and the tests,
//!   `storage::private_cluster`), migrations, queries, and the mapping of
//!   sqlx errors to [`AppError`].
//! - [`grpc`] is thin: generated code ([`grpc::pb`]), conversions between
//!   protobuf and domain types (where the request limits are applied), the
//!   connection wrapper that lets small answers share writes
//!   (`grpc::connection`), the authentication interceptor, the one layer
//!   around every call
//!   (`grpc::call`: request id, span, unary deadline, RPC metrics, failure
//!   log), the service impls that delegate to [`app`]
//!   (pages and export chunks cut at `grpc::MESSAGE_BUDGET` bytes), and the
//!   single mapping from [`AppError`] to `tonic::Status`.
//!
//! [`import`] parses the official code-set files (pure: bytes in, records or
//! a line-numbered error out); `app::import` writes them as releases.
//!
//! [`x12`] is the X12 door, pure too: an 837P interchange walked in constant
//! memory into claims and the TA1/999 verdicts, and the 277CA written from
//! the decisions; `app::x12` spools the file, runs the two walks and feeds
//! the claims of the accepted sets through the same batch pipeline.
//!
//! Around them: [`config`] (command line and environment), [`telemetry`]
//! (tracing subscriber), [`tls`] (rustls on the gRPC port: certificate files
//! reloaded when they change, client certificates verified against a CA,
//! their SANs read as the caller's identity), [`startup`] (builds the
//! server: database, migrations, catalog, router) and [`shutdown`]
//! (signals, health NOT_SERVING, drain).
//!
//! The binary (`src/main.rs`) parses the command line and runs one of the
//! subcommands: `serve`, `migrate`, `import`, `api-key`, `health-check` or
//! `x12 check`.
//!
//! `ARCHITECTURE.md` is the map: where a claim enters, where it is decided
//! (`app::decision`, `rules::RuleSet`), where it is stored, and where to add
//! a rule, an importer or a front door.

pub mod app;
pub mod config;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod import;
pub mod rules;
pub mod shutdown;
pub mod startup;
pub mod storage;
pub mod telemetry;
pub mod tls;
pub mod x12;

pub use error::AppError;
