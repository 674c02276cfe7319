use nabla_kernels::gemm::{self, MatMut, MatRef};
use std::time::Instant;

fn med(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let batch: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(128);
    let dims = [784usize, 512, 512, 10];
    let peak = 274.7e9;
    let buf = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 7919) % 1000) as f32 * 1e-3 - 0.5)
            .collect()
    };
    let mut total = 0.0;
    let mut total_fl = 0.0;
    for l in 0..3 {
        let (fi, fo) = (dims[l], dims[l + 1]);
        let h = buf(batch * fi);
        let w = buf(fi * fo);
        let dy = buf(batch * fo);
        let mut out_f = vec![0.0f32; batch * fo];
        let mut out_dh = vec![0.0f32; batch * fi];
        let mut out_dw = vec![0.0f32; fi * fo];
        let fl = 2.0 * (batch * fi * fo) as f64;
        for which in 0..3 {
            if which == 1 && l == 0 {
                continue;
            }
            let mut ts = vec![];
            for _ in 0..400 {
                let t = Instant::now();
                match which {
                    0 => gemm::gemm(
                        1.0,
                        MatRef::row_major(&h, batch, fi),
                        MatRef::row_major(&w, fi, fo),
                        0.0,
                        MatMut::row_major(&mut out_f, batch, fo),
                    ),
                    1 => gemm::gemm(
                        1.0,
                        MatRef::row_major(&dy, batch, fo),
                        MatRef::row_major(&w, fi, fo).t(),
                        0.0,
                        MatMut::row_major(&mut out_dh, batch, fi),
                    ),
                    _ => gemm::gemm(
                        1.0,
                        MatRef::row_major(&h, batch, fi).t(),
                        MatRef::row_major(&dy, batch, fo),
                        0.0,
                        MatMut::row_major(&mut out_dw, fi, fo),
                    ),
                }
                ts.push(t.elapsed().as_secs_f64());
            }
            let m = med(ts);
            total += m;
            total_fl += fl;
            println!(
                "layer {l} {} {:>8.1} us  {:5.1}%",
                ["fwd", "dX ", "dW "][which],
                m * 1e6,
                fl / m / peak * 100.0
            );
        }
    }
    println!(
        "sum of gemms {:.1} us = {:.1}% of peak",
        total * 1e6,
        total_fl / total / peak * 100.0
    );
}
