//! Probe: how two threads share products of SAC's size (256 rows, 256×256 layers), interleaved,
//! medians of 30 rounds: two members' chains of three products one after the other on one thread;
//! the same two chains on two threads (`rayon::join`, from outside the pool and from inside it);
//! one chain of six products, each split by gemm's own parallelism; the same chain as two row
//! blocks of 128 (one join); six independent products, each split by gemm, from outside the pool
//! and from inside it (where a product runs on one thread).
//! `RAYON_NUM_THREADS=2 cargo run --release -p dime-bench --example thread_scaling`
mod common;

use dime_nn::host_gemm::Gemm;
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn chain(x: &[f32], w: &[f32], out: &mut [f32], tmp: &mut [f32], rows: usize, depth: usize) {
    let g = Gemm::new(rows, 256, 256);
    g.run(x, w, out);
    for i in 1..depth {
        if i % 2 == 1 {
            g.run(out, w, tmp);
        } else {
            g.run(tmp, w, out);
        }
    }
}

fn main() {
    let Some(threads) = common::multi_thread_probe_setup() else {
        return;
    };
    let serial_pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let x: Vec<f32> = (0..256 * 256).map(|i| ((i % 97) as f32 - 48.0) * 1e-2).collect();
    let w: Vec<f32> = (0..256 * 256).map(|i| ((i % 89) as f32 - 44.0) * 1e-3).collect();
    let (mut a, mut b, mut ta, mut tb) =
        (vec![0.0f32; 256 * 256], vec![0.0f32; 256 * 256], vec![0.0f32; 256 * 256], vec![0.0f32; 256 * 256]);
    let names = [
        "serial 2×3",
        "members join",
        "gemm split 6",
        "row blocks 6",
        "members in pool",
        "six products",
        "six products in pool",
    ];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let reps = 20;
    for _ in 0..30 {
        for (v, t) in times.iter_mut().enumerate() {
            let start = Instant::now();
            for _ in 0..reps {
                match v {
                    0 => serial_pool.install(|| {
                        chain(&x, &w, &mut a, &mut ta, 256, 3);
                        chain(&x, &w, &mut b, &mut tb, 256, 3);
                    }),
                    1 => {
                        rayon::join(
                            || chain(&x, &w, &mut a, &mut ta, 256, 3),
                            || chain(&x, &w, &mut b, &mut tb, 256, 3),
                        );
                    }
                    2 => chain(&x, &w, &mut a, &mut ta, 256, 6),
                    3 => {
                        let (xa, xb) = x.split_at(128 * 256);
                        let (oa, ob) = a.split_at_mut(128 * 256);
                        let (pa, pb) = ta.split_at_mut(128 * 256);
                        rayon::join(|| chain(xa, &w, oa, pa, 128, 6), || chain(xb, &w, ob, pb, 128, 6));
                    }
                    4 => {
                        rayon::join(
                            || {
                                rayon::join(
                                    || chain(&x, &w, &mut a, &mut ta, 256, 3),
                                    || chain(&x, &w, &mut b, &mut tb, 256, 3),
                                )
                            },
                            || (),
                        );
                    }
                    5 => {
                        for _ in 0..6 {
                            Gemm::new(256, 256, 256).run(&x, &w, &mut a);
                        }
                    }
                    _ => {
                        rayon::join(
                            || {
                                for _ in 0..6 {
                                    Gemm::new(256, 256, 256).run(&x, &w, &mut a);
                                }
                            },
                            || (),
                        );
                    }
                }
            }
            t.push(start.elapsed().as_secs_f64() * 1e3 / reps as f64);
        }
    }
    println!("{threads} threads; every variant does six 256³ products per repetition");
    let flop = 6.0 * 2.0 * 256f64.powi(3);
    for (name, t) in names.iter().zip(&mut times) {
        t.sort_by(|p, q| p.partial_cmp(q).unwrap());
        println!(
            "{name:>20}: best {:.3} ms, median {:.3} ms ({:.1} GFLOP/s at the median)",
            t[0],
            t[t.len() / 2],
            flop / t[t.len() / 2] / 1e6
        );
    }
}
