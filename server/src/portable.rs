//! `drydock export` and `drydock import` (the format is `store::sql::portable`'s). They work on
//! the database directly, not through a server: export reads a database a server may be using;
//! import needs one no server uses (on PostgreSQL it takes the server's claim) and that holds
//! nothing yet.

use crate::config::PortableArgs;
use crate::store::SqlStore;
use std::io::{BufReader, BufWriter, Write};

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn report(verb: &str, counts: &crate::store::sql::portable::Counts) {
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    let tables: Vec<String> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(table, n)| format!("{table} {n}"))
        .collect();
    eprintln!("{verb} {total} rows ({})", tables.join(", "));
}

fn to_stdio(file: &Option<std::path::PathBuf>) -> bool {
    file.as_ref().is_none_or(|f| f.as_os_str() == "-")
}

pub fn export(args: PortableArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let store = SqlStore::open_to_read(&args.database_url).await?;
        let counts = if to_stdio(&args.file) {
            let mut out = BufWriter::new(std::io::stdout().lock());
            store.export(&mut out).await?
        } else {
            let path = args.file.as_ref().expect("a file was named");
            // Written beside, then renamed: a failed export leaves no file that looks whole.
            let partial = path.with_extension("partial");
            let mut out = BufWriter::new(std::fs::File::create(&partial)?);
            let counts = store.export(&mut out).await?;
            out.flush()?;
            std::fs::rename(&partial, path)?;
            counts
        };
        report("exported", &counts);
        Ok(())
    })
}

pub fn import(args: PortableArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let store = SqlStore::connect(&args.database_url).await?;
        let counts = if to_stdio(&args.file) {
            store
                .import(BufReader::new(std::io::stdin().lock()))
                .await?
        } else {
            let path = args.file.as_ref().expect("a file was named");
            store
                .import(BufReader::new(std::fs::File::open(path)?))
                .await?
        };
        report("imported", &counts);
        Ok(())
    })
}
