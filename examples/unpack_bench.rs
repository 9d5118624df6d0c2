//! Where an upload's unpack spends its time (issue 14): decompressing the
//! archive alone, then the whole unpack (decompress, check, create and
//! write every file) into a fresh folder, then flushing it (`syncfs`), each
//! ROUNDS times on the same archive; prints min / median / max per stage.
//!
//!   cargo run --release --example unpack_bench -- ARCHIVE.tar.gz [ROUNDS] [DIR]
//!
//! DIR (default: a temp folder) should be on the file system of the packs
//! folder, since creating files is what is measured.

use std::io::Read;
use std::time::Instant;

use attune::pack::archive::{ArchiveLimits, unpack};

fn stats(name: &str, mut v: Vec<f64>) {
    v.sort_by(f64::total_cmp);
    let med = v[v.len() / 2];
    println!(
        "{name:<28} min {:7.1} ms  median {:7.1} ms  max {:7.1} ms",
        v[0],
        med,
        v[v.len() - 1]
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let archive = args
        .next()
        .ok_or("usage: unpack_bench ARCHIVE [ROUNDS] [DIR]")?;
    let rounds: usize = args.next().map_or(Ok(10), |r| r.parse())?;
    let base = match args.next() {
        Some(d) => tempfile::tempdir_in(d)?,
        None => tempfile::tempdir()?,
    };
    let limits = ArchiveLimits {
        max_files: 100_000,
        max_unpacked_bytes: 1 << 33,
        max_file_bytes: 1 << 24,
    };
    let (mut gunzip, mut whole, mut flush) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let t = Instant::now();
        let mut gz = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(
            std::fs::File::open(&archive)?,
        ));
        let mut sink = vec![0u8; 64 * 1024];
        let mut total = 0usize;
        loop {
            let n = gz.read(&mut sink)?;
            if n == 0 {
                break;
            }
            total += n;
        }
        gunzip.push(t.elapsed().as_secs_f64() * 1e3);

        let dest = base.path().join(format!("r{round}"));
        std::fs::create_dir(&dest)?;
        let mut file = std::fs::File::open(&archive)?;
        let t = Instant::now();
        let out = unpack(&mut file, &dest, limits)?;
        whole.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        rustix::fs::syncfs(std::fs::File::open(&dest)?)?;
        flush.push(t.elapsed().as_secs_f64() * 1e3);
        if round == 0 {
            println!(
                "{archive}: {total} bytes unpacked, {} files, {} bytes written",
                out.files, out.bytes
            );
        }
        std::fs::remove_dir_all(&dest)?;
    }
    stats("decompress only", gunzip);
    stats("unpack (all of it)", whole);
    stats("syncfs after it", flush);
    Ok(())
}
