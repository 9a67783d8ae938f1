//! The machine's FMA ceiling, one thread and all threads at once:
//! `cargo run --release -p dime-bench --example fma_peak [-- ROUNDS]`.

fn main() {
    let rounds = std::env::args().nth(1).and_then(|r| r.parse().ok()).unwrap_or(5);
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    for threads in [1, all] {
        match dime_bench::fma_peak::measure(threads, rounds) {
            Some(p) => {
                let each: Vec<String> = p.per_thread.iter().map(|g| format!("{g:.1}")).collect();
                println!("{threads} thread(s), {}: {:.1} GFLOP/s (per thread {})", p.isa, p.total(), each.join(", "));
            }
            None => println!("no FMA probe for this CPU"),
        }
    }
}
