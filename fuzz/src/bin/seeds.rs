//! Writes the seed corpora: `cargo run --bin seeds` (from `fuzz/`) fills `corpus/<target>/`.

fn main() -> std::io::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut n = 0;
    for (target, name, bytes) in trawl_fuzz::seeds::all() {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), bytes)?;
        n += 1;
    }
    println!("{n} seeds written under {}", root.display());
    Ok(())
}
