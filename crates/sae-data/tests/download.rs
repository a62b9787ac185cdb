//! Downloads against a local HTTP server on 127.0.0.1 or a `file://`
//! folder (never the internet): verified files land whole, a checksum
//! mismatch writes nothing, a dead mirror falls through to the next, a
//! destination holding another dataset is refused, and the real MNIST
//! checksums accept the shared copy of MNIST when it is present.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use sae_data::{check_destination, download_dataset, DataError, DatasetName, Mirror, RawDataset, IDX_FILES};
use sha2::{Digest, Sha256};

/// Serves the files of `dir` over HTTP/1.0 until the test ends; returns
/// the base address. Unknown paths get a 404.
fn serve(dir: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut line = String::new();
            BufReader::new(&stream).read_line(&mut line).unwrap();
            let name = line.split_whitespace().nth(1).unwrap_or("/").trim_start_matches('/').to_string();
            match std::fs::read(dir.join(&name)) {
                Ok(body) => {
                    write!(stream, "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).unwrap();
                    stream.write_all(&body).unwrap();
                }
                Err(_) => write!(stream, "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n").unwrap(),
            }
        }
    });
    format!("http://{addr}/")
}

/// Gzips the synthetic dataset's files into `dir`; returns their raw SHA-256.
fn gz_fixture(dir: &Path) -> [&'static str; 4] {
    let raw = dir.join("raw");
    sae_data::write_synthetic_dataset(&raw, 30, 10, 5).unwrap();
    IDX_FILES.map(|f| {
        let bytes = std::fs::read(raw.join(f)).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&bytes).unwrap();
        std::fs::write(dir.join(format!("{f}.gz")), gz.finish().unwrap()).unwrap();
        let hex = hex::encode(Sha256::digest(&bytes));
        &*Box::leak(hex.into_boxed_str())
    })
}

#[test]
fn downloads_verifies_and_falls_through_dead_mirrors() {
    let tmp = tempfile::tempdir().unwrap();
    let served = tmp.path().join("served");
    std::fs::create_dir_all(&served).unwrap();
    let sums = gz_fixture(&served);
    let mirror = Mirror { urls: vec![serve(tmp.path().join("empty")), serve(served)], raw_sha256: sums };
    let dest = tmp.path().join("dest");
    let mut fetched = Vec::new();
    download_dataset(&mirror, &dest, |u| fetched.push(u.to_string())).unwrap();
    assert_eq!(fetched.len(), 8, "each file tried on the dead mirror first: {fetched:?}");
    let d = RawDataset::load(&dest).unwrap();
    assert_eq!((d.train_images.n, d.test_images.n), (30, 10));
    let leftovers: Vec<_> = std::fs::read_dir(&dest)
        .unwrap()
        .filter(|e| !e.as_ref().unwrap().path().to_string_lossy().ends_with(".gz"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary file left behind");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        std::fs::write(tmp.path().join("ordinary"), "x").unwrap();
        let downloaded = dest.join("train-images-idx3-ubyte.gz");
        assert_eq!(mode(&downloaded), mode(&tmp.path().join("ordinary")), "the umask decides, as for any file");
    }
    // A second call finds every file present and verified, and fetches nothing.
    let mut again = Vec::new();
    download_dataset(&mirror, &dest, |u| again.push(u.to_string())).unwrap();
    assert!(again.is_empty(), "{again:?}");
}

#[test]
fn a_checksum_mismatch_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let served = tmp.path().join("served");
    std::fs::create_dir_all(&served).unwrap();
    let mut sums = gz_fixture(&served);
    sums[0] = "0000000000000000000000000000000000000000000000000000000000000000";
    let mirror = Mirror { urls: vec![serve(served)], raw_sha256: sums };
    let dest = tmp.path().join("dest");
    let err = download_dataset(&mirror, &dest, |_| {}).unwrap_err();
    assert!(matches!(err, DataError::Download { file: "train-images-idx3-ubyte", .. }), "{err:?}");
    assert!(err.to_string().contains("SHA-256 of the decompressed content is"), "{err}");
    assert!(!dest.exists(), "nothing written, not even an empty folder");
}

#[test]
fn a_gzip_bomb_from_a_mirror_is_cut_off_at_the_size_its_header_announces() {
    let tmp = tempfile::tempdir().unwrap();
    let served = tmp.path().join("served");
    std::fs::create_dir_all(&served).unwrap();
    let sums = gz_fixture(&served);
    // The training images replaced by a header announcing one 28×28 image, then 64 MiB of zeros.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    [0x803u32, 1, 28, 28].iter().for_each(|w| gz.write_all(&w.to_be_bytes()).unwrap());
    let zeros = vec![0u8; 1 << 20];
    (0..64).for_each(|_| gz.write_all(&zeros).unwrap());
    std::fs::write(served.join("train-images-idx3-ubyte.gz"), gz.finish().unwrap()).unwrap();
    let mirror = Mirror { urls: vec![serve(served)], raw_sha256: sums };
    let dest = tmp.path().join("dest");
    let err = download_dataset(&mirror, &dest, |_| {}).unwrap_err();
    assert!(err.to_string().contains("trailing data: the IDX header announces 800 bytes"), "{err}");
    assert!(!dest.exists(), "nothing written, not even an empty folder");
}

#[test]
fn the_real_mnist_checksums_accept_the_shared_copy() {
    let Some(shared) =
        std::env::var_os("SAE_DATA_DIR").map(PathBuf::from).filter(|p| p.join("train-images-idx3-ubyte.gz").is_file())
    else {
        sae_data::skip_test(
            "the_real_mnist_checksums_accept_the_shared_copy",
            "SAE_DATA_DIR does not point at the full MNIST (.gz files); this test needs it",
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut mirror = Mirror::for_dataset(&DatasetName("mnist".into())).unwrap();
    mirror.urls = vec![serve(shared)];
    download_dataset(&mirror, tmp.path(), |_| {}).unwrap();
    let d = RawDataset::load(tmp.path()).unwrap();
    assert_eq!((d.train_images.n, d.test_images.n), (60_000, 10_000));
    // MNIST's own files are kept; Fashion-MNIST is not fetched beside them.
    check_destination(&DatasetName("mnist".into()), tmp.path()).unwrap();
    let err = check_destination(&DatasetName("fashion-mnist".into()), tmp.path()).unwrap_err().to_string();
    assert!(err.contains("it holds train-images-idx3-ubyte.gz of the mnist dataset"), "{err}");
}

#[test]
fn a_mirror_address_without_its_slash_and_a_file_address_are_fetched() {
    let tmp = tempfile::tempdir().unwrap();
    let served = tmp.path().join("served");
    std::fs::create_dir_all(&served).unwrap();
    let sums = gz_fixture(&served);
    // Was `.../servedtrain-images-idx3-ubyte.gz`, and `file://` an `EmptyHost` error.
    let mirror = Mirror { urls: vec![format!("file://{}", served.display())], raw_sha256: sums };
    let mut fetched = Vec::new();
    download_dataset(&mirror, &tmp.path().join("dest"), |u| fetched.push(u.to_string())).unwrap();
    assert_eq!(fetched[0], format!("file://{}/train-images-idx3-ubyte.gz", served.display()));
    let missing = Mirror { urls: vec![format!("file://{}", tmp.path().join("none").display())], raw_sha256: sums };
    let err = download_dataset(&missing, &tmp.path().join("dest2"), |_| {}).unwrap_err().to_string();
    assert!(err.contains("none/train-images-idx3-ubyte.gz: No such file or directory"), "{err}");
}

#[test]
fn a_destination_named_after_or_holding_another_dataset_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let fashion = DatasetName("fashion-mnist".into());
    let err = check_destination(&fashion, &tmp.path().join("data/mnist")).unwrap_err().to_string();
    assert!(err.contains("the folder is named after the mnist dataset"), "{err}");
    let other = tmp.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    gz_fixture(&other);
    let err = check_destination(&fashion, &other).unwrap_err().to_string();
    assert!(err.contains("it holds a train-images-idx3-ubyte.gz that is no file of fashion-mnist"), "{err}");
    assert!(err.contains("choose another --dest (the default is ./data/fashion-mnist)"), "{err}");
    check_destination(&fashion, &tmp.path().join("empty")).unwrap();
}

#[test]
fn unknown_datasets_have_no_mirror() {
    let err = Mirror::for_dataset(&DatasetName("kmnist".into())).unwrap_err().to_string();
    assert!(err.contains("kmnist has no download mirror"), "{err}");
}
