fn main() {
    println!("attune {}", env!("CARGO_PKG_VERSION"));
}
