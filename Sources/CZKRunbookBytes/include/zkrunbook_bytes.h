#ifndef ZKRUNBOOK_BYTES_H
#define ZKRUNBOOK_BYTES_H

#include <stddef.h>
#include <stdint.h>

/// SHA-256's 64 round constants, for the hardware and the portable code alike.
extern const uint32_t zkrunbook_sha256_round_constants[64];

/// 1 when this CPU has the SHA extensions (and the SSSE3/SSE4.1 they are used with), else 0.
int zkrunbook_sha256_hardware_available(void);

/// Compresses `blocks` 64-byte blocks at `data` into `state` (8 words, FIPS 180-4 order) with the SHA
/// extensions. Call only when zkrunbook_sha256_hardware_available() said 1.
void zkrunbook_sha256_blocks_hardware(uint32_t state[8], const uint8_t *data, size_t blocks);

/// Fixed tokens searched for together: each token's bytes and length (at least 1, at most 64 tokens).
typedef struct {
    const uint8_t *const *bytes;
    const size_t *lengths;
    size_t count;
} zkrunbook_tokens;

/// The first position at or after `from` in data[0..<length] where one of the tokens starts (the lowest
/// index wins a tie), with its index in *which; -1 when none does. One pass whatever the number of tokens:
/// each 32-byte block is compared with every token's first and last byte in SIMD registers (AVX2 where the
/// CPU has it, else SSE2), and only those candidates are compared whole.
long zkrunbook_first_token(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, size_t *which);

/// A token found: where it starts, and which.
typedef struct {
    size_t position;
    size_t token;
} zkrunbook_token_hit;

/// Every place in data[from..<*next] where a token starts, each once, in order of position (then token
/// index); returns how many were written. *next is `length` when the buffer is done, else call again from
/// *next. `capacity` must be at least 128 per token (a whole SIMD block's hits always fit); else returns 0
/// with *next = length.
/// One pass with the tokens' compares set up once, for buffers with many hits (a log where most lines match).
size_t zkrunbook_all_tokens(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, zkrunbook_token_hit *hits, size_t capacity, size_t *next);

/// memrchr: the last `byte` in data[0..<length], or NULL (a GNU extension Swift's Glibc module does not show).
const void *zkrunbook_last_byte(const void *data, int byte, size_t length);

/// How many times `byte` occurs in data[0..<length] (newlines between two hits: AVX2 where the CPU has it,
/// several times faster than a memchr per line on short log lines).
size_t zkrunbook_count_byte(const void *data, int byte, size_t length);

/// Adler-32 of data[0..<length] continued from `adler` (1 to start), as zlib and java.util.zip.Adler32 give it.
uint32_t zkrunbook_adler32(uint32_t adler, const uint8_t *data, size_t length);

/// copy_file_range(2) from *input_offset to *output_offset, which it advances: the bytes never enter our
/// memory. Returns what it copied, 0 at the end of the input, or -1 with errno (EXDEV, ENOSYS, EINVAL: the
/// caller copies through a buffer instead).
long zkrunbook_copy_file_range(int input, long long *input_offset, int output, long long *output_offset, size_t length);

/// sync_file_range(2) with SYNC_FILE_RANGE_WRITE: starts writing those pages out without waiting, so the
/// fsync at the end has little left to do.
int zkrunbook_start_writeback(int fd, long long offset, long long length);

/// pidfd_open(2): a descriptor that poll(2) reports readable once the process `pid` has exited, so a wait
/// wakes at the exit rather than at the next tick; -1 with errno where the kernel has none (before 5.3).
int zkrunbook_pidfd_open(int pid);

#endif
