//! Shared by the model floor's unit tests: a small config that exercises every feature
//! (grouped-query attention, an untied head), and a straightforward f64 host implementation
//! of Hugging Face's Llama forward to check the burn model against.

use burn::tensor::{Device, Int, Tensor, TensorData};

use super::config::LlamaConfig;
use super::rope::Rope;
use super::weights::TensorMap;

/// d=32, 2 layers, 4 query heads over 2 key/value heads, vocab 40, untied head.
pub fn small_config(tied: bool) -> LlamaConfig {
    serde_json::from_value(serde_json::json!({
        "vocab_size": 40, "hidden_size": 32, "intermediate_size": 48,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 64,
        "tie_word_embeddings": tied
    }))
    .unwrap()
}

pub fn ids(rows: &[&[u32]], device: &Device) -> Tensor<2, Int> {
    let len = rows[0].len();
    let data: Vec<i64> = rows.iter().flat_map(|r| r.iter().map(|&v| v as i64)).collect();
    Tensor::from_data(TensorData::new(data, [rows.len(), len]), device)
}

pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    super::tensors::host_vec(t)
}

/// Logits `[len][vocab]` of one unpadded sequence, computed in f64 on the host.
pub fn reference_logits(c: &LlamaConfig, w: &TensorMap, ids: &[u32]) -> Vec<Vec<f64>> {
    let (d, nh, nkv, hd) = (c.hidden_size, c.num_attention_heads, c.kv_heads(), c.head_dim());
    let rep = nh / nkv;
    let inv_freq = Rope::new(c).unwrap().inv_freq().to_vec();
    let get = |n: &str| w[n].data.iter().map(|v| *v as f64).collect::<Vec<f64>>();
    // y = W x with W [out, in] row-major.
    let matvec = |m: &[f64], x: &[f64]| -> Vec<f64> {
        m.chunks(x.len()).map(|row| row.iter().zip(x).map(|(a, b)| a * b).sum()).collect()
    };
    let rms = |x: &[f64], g: &[f64]| -> Vec<f64> {
        let ms = x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64;
        let r = 1.0 / (ms + c.rms_norm_eps).sqrt();
        x.iter().zip(g).map(|(v, g)| v * r * g).collect()
    };
    let rope = |v: &mut [f64], pos: usize| {
        let h = v.len() / 2;
        for i in 0..h {
            let a = (inv_freq[i] * pos as f32) as f64;
            let (x1, x2) = (v[i], v[i + h]);
            v[i] = x1 * a.cos() - x2 * a.sin();
            v[i + h] = x2 * a.cos() + x1 * a.sin();
        }
    };
    let embed = get("model.embed_tokens.weight");
    let mut xs: Vec<Vec<f64>> = ids.iter().map(|&i| embed[i as usize * d..(i as usize + 1) * d].to_vec()).collect();
    for l in 0..c.num_hidden_layers {
        let p = format!("model.layers.{l}");
        let (wq, wk, wv, wo) = (
            get(&format!("{p}.self_attn.q_proj.weight")),
            get(&format!("{p}.self_attn.k_proj.weight")),
            get(&format!("{p}.self_attn.v_proj.weight")),
            get(&format!("{p}.self_attn.o_proj.weight")),
        );
        let (g_in, g_post) =
            (get(&format!("{p}.input_layernorm.weight")), get(&format!("{p}.post_attention_layernorm.weight")));
        let (wg, wu, wd) = (
            get(&format!("{p}.mlp.gate_proj.weight")),
            get(&format!("{p}.mlp.up_proj.weight")),
            get(&format!("{p}.mlp.down_proj.weight")),
        );
        let hs: Vec<Vec<f64>> = xs.iter().map(|x| rms(x, &g_in)).collect();
        let mut qs: Vec<Vec<f64>> = hs.iter().map(|h| matvec(&wq, h)).collect();
        let mut ks: Vec<Vec<f64>> = hs.iter().map(|h| matvec(&wk, h)).collect();
        let vs: Vec<Vec<f64>> = hs.iter().map(|h| matvec(&wv, h)).collect();
        for (t, (q, k)) in qs.iter_mut().zip(ks.iter_mut()).enumerate() {
            q.chunks_mut(hd).for_each(|h| rope(h, t));
            k.chunks_mut(hd).for_each(|h| rope(h, t));
        }
        for t in 0..xs.len() {
            let mut o = vec![0.0; nh * hd];
            for h in 0..nh {
                let g = h / rep; // repeat_kv: query head h reads key/value head h / rep
                let q = &qs[t][h * hd..(h + 1) * hd];
                let scores: Vec<f64> = (0..=t)
                    .map(|j| {
                        q.iter().zip(&ks[j][g * hd..(g + 1) * hd]).map(|(a, b)| a * b).sum::<f64>() / (hd as f64).sqrt()
                    })
                    .collect();
                let m = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = scores.iter().map(|s| (s - m).exp()).collect();
                let z: f64 = e.iter().sum();
                for (j, ej) in e.iter().enumerate() {
                    for i in 0..hd {
                        o[h * hd + i] += ej / z * vs[j][g * hd + i];
                    }
                }
            }
            let attn = matvec(&wo, &o);
            xs[t].iter_mut().zip(attn).for_each(|(x, a)| *x += a);
            let h2 = rms(&xs[t], &g_post);
            let (gate, up) = (matvec(&wg, &h2), matvec(&wu, &h2));
            let act: Vec<f64> = gate.iter().zip(&up).map(|(g, u)| g / (1.0 + (-g).exp()) * u).collect();
            let down = matvec(&wd, &act);
            xs[t].iter_mut().zip(down).for_each(|(x, a)| *x += a);
        }
    }
    let g = get("model.norm.weight");
    let head = if c.tie_word_embeddings { embed.clone() } else { get("lm_head.weight") };
    xs.iter().map(|x| matvec(&head, &rms(x, &g))).collect()
}
