//! The two migrations, `server/migrations/sqlite` and
//! `server/migrations/postgres`, must build the same schema: the store runs
//! the same statements on both. This test migrates a fresh database of each
//! and compares what each database reports of itself, so that a column, key,
//! index, check or trigger added to one migration alone fails here.
//!
//! Each schema is read into lines such as `column rounds.secret bool not
//! null`, and the lines of one that the other lacks are the failure message.
//! Types are compared by family (integer, text, blob, bool, ...), since the
//! two spell them differently: SQLite's `INTEGER` is PostgreSQL's `BIGINT`,
//! `BLOB` is `BYTEA`, and a SQLite boolean is an `INTEGER` checked to be 0
//! or 1. Check constraints are compared by the columns they read, which both
//! databases report, not by their text, which each rewrites its own way.

use anyhow::{Context, Result, bail};
use gavel_server::store::{Pool, Store};
use gavel_tests::databases;
use sqlx::{PgPool, SqlitePool};
use std::collections::BTreeSet;

#[tokio::test]
async fn both_migrations_build_the_same_schema() -> Result<()> {
    let mut sqlite = None;
    let mut postgres = None;
    let dbs = databases().await;
    for db in &dbs {
        let store = Store::connect(&db.url)
            .await
            .with_context(|| format!("migrating a fresh {} database", db.name))?;
        match store.pool() {
            Pool::Sqlite(pool) => sqlite = Some(sqlite_schema(pool).await?),
            Pool::Postgres(pool) => postgres = Some(postgres_schema(pool).await?),
        }
        store.close().await;
    }
    let sqlite = sqlite.context("no SQLite database to compare")?;
    let Some(postgres) = postgres else {
        eprintln!("note: no PostgreSQL (TEST_DATABASE_URL); the schemas are not compared");
        return Ok(());
    };
    assert!(
        sqlite
            .iter()
            .any(|l| l == "column meetings.id text not null"),
        "the schema reader found the meetings table: {sqlite:#?}"
    );
    if sqlite != postgres {
        bail!(
            "the migrations have drifted apart.\nonly in SQLite:\n  {}\nonly in PostgreSQL:\n  {}",
            lines(sqlite.difference(&postgres)),
            lines(postgres.difference(&sqlite)),
        );
    }
    Ok(())
}

fn lines<'a>(lines: impl Iterator<Item = &'a String>) -> String {
    lines.cloned().collect::<Vec<_>>().join("\n  ")
}

/// The migrations' own bookkeeping, which each database keeps its own way.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

async fn sqlite_schema(pool: &SqlitePool) -> Result<BTreeSet<String>> {
    let mut schema = BTreeSet::new();
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_schema
         WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> $1",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(pool)
    .await?;
    for (table, sql) in tables {
        schema.insert(format!("table {table}"));
        let columns: Vec<(String, String, bool, i64)> = sqlx::query_as(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid",
        )
        .bind(&table)
        .fetch_all(pool)
        .await?;
        let names: Vec<&str> = columns.iter().map(|c| c.0.as_str()).collect();
        let checks: Vec<String> = checks_in(&sql);
        let mut primary_key: Vec<(i64, &str)> = Vec::new();
        for (name, declared, not_null, pk) in &columns {
            let boolean = checks.contains(&format!("{name} IN (0, 1)"));
            let family = match (declared.as_str(), boolean) {
                ("INTEGER", true) => "bool",
                ("INTEGER", false) => "integer",
                ("TEXT", _) => "text",
                ("BLOB", _) => "blob",
                ("REAL", _) => "real",
                (other, _) => other,
            };
            // A primary key column cannot hold NULL in a STRICT table, as in
            // PostgreSQL, though SQLite does not report it as NOT NULL.
            schema.insert(column(&table, name, family, *not_null || *pk > 0));
            if *pk > 0 {
                primary_key.push((*pk, name));
            }
        }
        primary_key.sort_unstable();
        schema.insert(format!(
            "primary key {table} ({})",
            primary_key
                .iter()
                .map(|(_, c)| *c)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        for check in &checks {
            if names.iter().any(|c| *check == format!("{c} IN (0, 1)")) {
                continue;
            }
            let mut read: Vec<&str> = identifiers(check)
                .filter(|word| names.contains(word))
                .collect();
            read.sort_unstable();
            read.dedup();
            schema.insert(format!("check {table} ({})", read.join(", ")));
        }
        let foreign: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
            "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list($1)
             ORDER BY id, seq",
        )
        .bind(&table)
        .fetch_all(pool)
        .await?;
        let mut ids: Vec<i64> = foreign.iter().map(|f| f.0).collect();
        ids.dedup();
        for id in ids {
            let parts: Vec<_> = foreign.iter().filter(|f| f.0 == id).collect();
            let from: Vec<&str> = parts.iter().map(|f| f.2.as_str()).collect();
            let to: Vec<&str> = parts.iter().map(|f| f.3.as_deref().unwrap_or("")).collect();
            schema.insert(foreign_key(&table, &from, &parts[0].1, &to));
        }
        let indexes: Vec<(String, bool, String, bool)> =
            sqlx::query_as("SELECT name, \"unique\", origin, partial FROM pragma_index_list($1)")
                .bind(&table)
                .fetch_all(pool)
                .await?;
        for (index, unique, origin, partial) in indexes {
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&index)
                    .fetch_all(pool)
                    .await?;
            match origin.as_str() {
                "pk" => {}
                "u" => {
                    schema.insert(format!("unique {table} ({})", columns.join(", ")));
                }
                _ => {
                    schema.insert(named_index(&table, &index, &columns, unique, partial));
                }
            }
        }
    }
    let triggers: Vec<(String, String)> =
        sqlx::query_as("SELECT tbl_name, name FROM sqlite_schema WHERE type = 'trigger'")
            .fetch_all(pool)
            .await?;
    for (table, trigger) in triggers {
        schema.insert(format!("trigger {table} {trigger}"));
    }
    Ok(schema)
}

/// A constraint as PostgreSQL reports it: its table, its kind (`p`, `u`,
/// `f` or `c`), its columns, and for a foreign key the table and columns it
/// references.
type ConstraintRow = (String, String, Vec<String>, String, Vec<String>);

async fn postgres_schema(pool: &PgPool) -> Result<BTreeSet<String>> {
    let mut schema = BTreeSet::new();
    let columns: Vec<(String, String, String, bool)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text, c.data_type::text,
                c.is_nullable = 'NO'
         FROM information_schema.columns c
         JOIN information_schema.tables t USING (table_schema, table_name)
         WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
             AND c.table_name <> $1",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(pool)
    .await?;
    for (table, name, data_type, not_null) in columns {
        let family = match data_type.as_str() {
            "bigint" | "integer" | "smallint" => "integer",
            "text" | "character varying" => "text",
            "bytea" => "blob",
            "boolean" => "bool",
            "double precision" | "real" => "real",
            other if other.starts_with("timestamp") => "timestamp",
            other => other,
        };
        schema.insert(format!("table {table}"));
        schema.insert(column(&table, &name, family, not_null));
    }
    let constraints: Vec<ConstraintRow> = sqlx::query_as(
        "SELECT con.conrelid::regclass::text, con.contype::text,
                ARRAY(SELECT a.attname::text
                      FROM unnest(con.conkey) WITH ORDINALITY AS k (attnum, n)
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
                      ORDER BY k.n),
                con.confrelid::regclass::text,
                ARRAY(SELECT a.attname::text
                      FROM unnest(con.confkey) WITH ORDINALITY AS k (attnum, n)
                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
                      ORDER BY k.n)
         FROM pg_constraint con JOIN pg_namespace ns ON ns.oid = con.connamespace
         WHERE ns.nspname = current_schema() AND con.contype IN ('p', 'u', 'f', 'c')
             AND con.conrelid::regclass::text <> $1",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(pool)
    .await?;
    for (table, kind, mut columns, referenced, to) in constraints {
        let line = match kind.as_str() {
            "p" => format!("primary key {table} ({})", columns.join(", ")),
            "u" => format!("unique {table} ({})", columns.join(", ")),
            "f" => {
                let from: Vec<&str> = columns.iter().map(String::as_str).collect();
                let to: Vec<&str> = to.iter().map(String::as_str).collect();
                foreign_key(&table, &from, &referenced, &to)
            }
            _ => {
                columns.sort_unstable();
                format!("check {table} ({})", columns.join(", "))
            }
        };
        schema.insert(line);
    }
    let indexes: Vec<(String, String, bool, bool, Vec<String>)> = sqlx::query_as(
        "SELECT t.relname::text, i.relname::text, ix.indisunique, ix.indpred IS NOT NULL,
                ARRAY(SELECT a.attname::text
                      FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k (attnum, n)
                      JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
                      ORDER BY k.n)
         FROM pg_index ix
         JOIN pg_class i ON i.oid = ix.indexrelid
         JOIN pg_class t ON t.oid = ix.indrelid
         JOIN pg_namespace ns ON ns.oid = t.relnamespace
         WHERE ns.nspname = current_schema() AND t.relname <> $1
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid)",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(pool)
    .await?;
    for (table, index, unique, partial, columns) in indexes {
        schema.insert(named_index(&table, &index, &columns, unique, partial));
    }
    let triggers: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT event_object_table::text, trigger_name::text
         FROM information_schema.triggers WHERE trigger_schema = current_schema()",
    )
    .fetch_all(pool)
    .await?;
    for (table, trigger) in triggers {
        schema.insert(format!("trigger {table} {trigger}"));
    }
    Ok(schema)
}

fn column(table: &str, name: &str, family: &str, not_null: bool) -> String {
    let null = if not_null { "not null" } else { "null" };
    format!("column {table}.{name} {family} {null}")
}

fn foreign_key(table: &str, from: &[&str], referenced: &str, to: &[&str]) -> String {
    format!(
        "foreign key {table} ({}) references {referenced} ({})",
        from.join(", "),
        to.join(", ")
    )
}

/// An index made by `CREATE INDEX`, rather than for a key or constraint.
fn named_index(table: &str, name: &str, columns: &[String], unique: bool, partial: bool) -> String {
    format!(
        "index {table} {name} ({}){}{}",
        columns.join(", "),
        if unique { " unique" } else { "" },
        if partial { " partial" } else { "" }
    )
}

/// The expressions of the `CHECK (...)` clauses in a `CREATE TABLE`
/// statement, with runs of white space made one space.
fn checks_in(sql: &str) -> Vec<String> {
    let mut checks = Vec::new();
    let mut rest = sql;
    while let Some(at) = rest.find("CHECK (") {
        let open = at + "CHECK ".len();
        let mut depth = 0;
        let mut end = open;
        for (i, ch) in rest[open..].char_indices() {
            match ch {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = open + i;
                break;
            }
        }
        let expression = &rest[open + 1..end];
        checks.push(expression.split_whitespace().collect::<Vec<_>>().join(" "));
        rest = &rest[end..];
    }
    checks
}

/// The words of an SQL expression outside its quoted strings.
fn identifiers(expression: &str) -> impl Iterator<Item = &str> {
    expression
        .split('\'')
        .step_by(2)
        .flat_map(|unquoted| unquoted.split(|c: char| !(c.is_alphanumeric() || c == '_')))
        .filter(|word| !word.is_empty())
}
