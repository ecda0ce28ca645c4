//! Is the tiny base model's pretraining bit-reproducible? Pretrains on the world's corpus for
//! a few updates and prints a digest of the weights. Run it twice (and with different pool
//! sizes): the digests must agree.
//!
//! `cargo run --release --example pretrain_repro -- [THREADS] [UPDATES]`
use apogrid::model::score::Truncation;
use apogrid::model::tiny::{CharTokenizer, tiny_model};
use apogrid::model::tokenizer::{Encoder, RawFormat, TextTokenizer};
use apogrid::train::pretrain::{PretrainSpec, pretrain};
use apogrid::world::corpus::training_corpus;
use burn::tensor::Device;
use sha2::{Digest, Sha256};

fn main() {
    let argv: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let threads = argv.first().copied().unwrap_or(2);
    let updates = argv.get(1).copied().unwrap_or(20);
    let batch = 32;
    let tok = CharTokenizer;
    let format = RawFormat { add_bos: true };
    let enc = Encoder::new(&tok, &format);
    let corpus = training_corpus(0, updates * batch);
    let examples: Vec<(Vec<u32>, Vec<u32>)> =
        corpus.iter().map(|e| (enc.prompt(&e.prompt), enc.response(&e.response))).collect();
    let spec = PretrainSpec {
        epochs: 1,
        learning_rate: 5e-3,
        batch_size: batch,
        truncation: Truncation { max_prompt_tokens: 128, max_response_tokens: 128 },
        seed: 0,
        pad_id: tok.pad_id(),
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let (model, report) = pool.install(|| {
        let model = tiny_model(0, &Device::flex().autodiff()).unwrap();
        pretrain(model, &examples, &spec, &|_| {}, (0, &mut |_| Ok(()))).unwrap()
    });
    let mut h = Sha256::new();
    let tensors = model.to_tensors();
    let mut names: Vec<_> = tensors.keys().collect();
    names.sort();
    for n in names {
        for v in &tensors[n].data {
            h.update(v.to_le_bytes());
        }
    }
    println!(
        "threads {threads} updates {updates} loss {:?} {:.1}s digest {}",
        report.epoch_losses,
        report.seconds,
        hex::encode(h.finalize())
    );
}
