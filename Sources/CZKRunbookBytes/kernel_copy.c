// The kernel's own file copy and writeback calls, which Swift's Glibc module does not show.
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>
#include "zkrunbook_bytes.h"

long zkrunbook_copy_file_range(int input, long long *input_offset, int output, long long *output_offset, size_t length) {
    off64_t in = *input_offset, out = *output_offset;
    ssize_t copied = copy_file_range(input, &in, output, &out, length, 0);
    if (copied > 0) {
        *input_offset = in;
        *output_offset = out;
    }
    return copied;
}

int zkrunbook_start_writeback(int fd, long long offset, long long length) {
    return sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
}
