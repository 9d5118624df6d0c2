//! Parse + validate throughput over a generated pack of 1,000 workflows on
//! one thread, against the floor measured in the same run: libyaml-based
//! parsing (`serde_yaml_ng` into `serde_json::Value`) of the same bytes.
//! Also the raw event streams of the two candidate parsers and attune's YAML
//! layer alone, which is how the YAML layer was chosen (docs/YAML_LAYER.md).
//!
//! Run: `cargo bench --bench validate`

use attune::workflow::generator as gen_support;

use attune::workflow::yaml::{Limits, parse};
use attune::workflow::{BuiltinCatalog, LayeredCatalog, SourceContext, validate};
use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use std::time::Duration;

fn corpus() -> Vec<(String, String)> {
    gen_support::pack(1000, 42)
}

fn bench(c: &mut Criterion) {
    let files = corpus();
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    eprintln!("corpus: {} files, {} bytes", files.len(), bytes);
    let pc = gen_support::catalog();
    let b = BuiltinCatalog::new();
    let cat = LayeredCatalog::new(vec![&pc, &b]);

    let mut g = c.benchmark_group("pack_1000");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(12));
    g.warm_up_time(Duration::from_secs(2));

    g.bench_function("floor_serde_yaml_ng_to_json_value", |bn| {
        bn.iter(|| {
            for (_, t) in &files {
                let v: Result<serde_json::Value, _> = serde_yaml_ng::from_str(t);
                black_box(v.is_ok());
            }
        })
    });
    g.bench_function("attune_parse_and_validate", |bn| {
        bn.iter(|| {
            for (name, t) in &files {
                let ctx = SourceContext {
                    pack_ref: "bench",
                    name,
                    file: None,
                };
                let v = validate(t.as_bytes(), &ctx, &cat);
                black_box(v.workflow.is_some());
            }
        })
    });
    g.bench_function("attune_yaml_layer_only", |bn| {
        bn.iter(|| {
            for (_, t) in &files {
                black_box(parse(t, &Limits::default()).is_ok());
            }
        })
    });
    g.bench_function("events_saphyr_parser", |bn| {
        bn.iter(|| {
            for (_, t) in &files {
                let mut p = saphyr_parser::Parser::new_from_str(t);
                let mut n = 0usize;
                while let Some(Ok((ev, _))) = p.next_event() {
                    if ev == saphyr_parser::Event::StreamEnd {
                        break;
                    }
                    n += 1;
                }
                black_box(n);
            }
        })
    });
    g.bench_function("events_libyaml_safer", |bn| {
        bn.iter(|| {
            for (_, t) in &files {
                let mut input = t.as_bytes();
                let mut p = libyaml_safer::Parser::new();
                p.set_input_string(&mut input);
                let mut n = 0usize;
                for ev in p.by_ref() {
                    if ev.is_err() {
                        break;
                    }
                    n += 1;
                }
                black_box(n);
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
