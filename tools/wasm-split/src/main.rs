//! `drydock-wasm-split INPUT.wasm OUT_DIR NAME`: splits the bundle `cargo build` made at its
//! lazy-loading points. Writes `OUT_DIR/NAME_split.wasm` (the main module, for wasm-bindgen),
//! one `.wasm` per chunk, the `__wasm_split.…js` loader the main module imports them through, and
//! `__wasm_split_manifest.json`, which Leptos reads when rendering a page to prefetch the chunks
//! that page needs. The names are the ones Leptos' hydration scripts expect.

use std::path::PathBuf;

/// The loader's file name Leptos links to when files are not hashed.
const LOADER: &str = "./__wasm_split.______________________.js";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out_dir, name] = args.as_slice() else {
        eprintln!("usage: drydock-wasm-split INPUT.wasm OUT_DIR NAME");
        std::process::exit(2);
    };
    if let Err(error) = split(input, &PathBuf::from(out_dir), name) {
        eprintln!("drydock-wasm-split: {error:#}");
        std::process::exit(1);
    }
}

fn split(
    input: &str,
    out_dir: &std::path::Path,
    name: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let wasm = std::fs::read(input)?;
    let main_out = out_dir.join(format!("{name}_split.wasm"));
    let main_module = format!("./{name}.js");
    let mut options = wasm_split_cli_support::Options::new(&wasm);
    options.output_dir = out_dir;
    options.main_out_path = &main_out;
    options.main_module = &main_module;
    options.link_name = LOADER;
    let split = wasm_split_cli_support::transform(options).map_err(|e| format!("{e:?}"))?;
    let manifest = serde_json::to_string_pretty(&split.prefetch_map)?;
    std::fs::write(out_dir.join("__wasm_split_manifest.json"), manifest)?;
    for chunk in &split.split_modules {
        println!("{}", chunk.display());
    }
    Ok(())
}
