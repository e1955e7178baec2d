# Shared by the bench scripts (sourced, not run): checks for GNU time, builds the release
# binaries and defines the helpers that read `/usr/bin/time -v` output.
# Sets: root (the repository), tidings, server_bin.

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

if ! /usr/bin/time -v true >/dev/null 2>&1; then
    echo "$(basename "$0"): GNU time is needed at /usr/bin/time (apt-get install time)" >&2
    exit 1
fi

cargo build --release -q -p tidings --bin tidings
cargo build --release -q -p tidings-bench --bin corpus-server
tidings=$root/target/release/tidings
server_bin=$root/target/release/corpus-server

# field NAME FILE: the value of one `/usr/bin/time -v` line.
field() { grep -F "$1" "$2" | sed 's/.*: //'; }

# seconds H:MM:SS.ss | M:SS.ss -> seconds
seconds() { awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }' <<<"$1"; }
