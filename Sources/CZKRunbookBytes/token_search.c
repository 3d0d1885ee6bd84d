// Many fixed tokens found in one pass over a buffer (doctor's log signatures).
#define _GNU_SOURCE
#include "zkrunbook_bytes.h"
#include <string.h>

static int token_matches(const uint8_t *at, const zkrunbook_tokens *tokens, size_t index) {
    return memcmp(at, tokens->bytes[index], tokens->lengths[index]) == 0;
}

/// Position by position: the tail of a buffer, and CPUs without SIMD.
static long first_token_scalar(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, size_t *which) {
    for (size_t position = from; position < length; position++) {
        for (size_t index = 0; index < tokens->count; index++) {
            size_t size = tokens->lengths[index];
            if (size <= length - position && data[position] == tokens->bytes[index][0] && token_matches(data + position, tokens, index)) {
                *which = index;
                return (long)position;
            }
        }
    }
    return -1;
}

/// 1 to 64 tokens, none empty.
static int usable(const zkrunbook_tokens *tokens) {
    if (tokens->count == 0 || tokens->count > 64) return 0;
    for (size_t index = 0; index < tokens->count; index++)
        if (tokens->lengths[index] == 0) return 0;
    return 1;
}

long zkrunbook_first_token(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, size_t *which);

/// Every hit with a start in [from, length), through the first-token search: the SSE2 path, other CPUs, and
/// the tail the AVX2 loop leaves. Several tokens may start at one position: each is reported. When the hits
/// fill `capacity`, those at the last position are dropped and *next is that position (they come again).
static size_t all_tokens_by_first(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, zkrunbook_token_hit *hits, size_t capacity, size_t *next) {
    size_t count = 0, which = 0;
    *next = length;
    while (from < length) {
        long found = zkrunbook_first_token(data, length, from, tokens, &which);
        if (found < 0) break;
        size_t position = (size_t)found;
        for (size_t index = which; index < tokens->count; index++) {
            if (tokens->lengths[index] > length - position || !token_matches(data + position, tokens, index)) continue;
            if (count == capacity) {
                while (count > 0 && hits[count - 1].position == position) count--;
                *next = position;
                return count;
            }
            hits[count].position = position;
            hits[count].token = index;
            count++;
        }
        from = position + 1;
    }
    return count;
}

static size_t longest_token(const zkrunbook_tokens *tokens) {
    size_t longest = 0;
    for (size_t index = 0; index < tokens->count; index++)
        if (tokens->lengths[index] > longest) longest = tokens->lengths[index];
    return longest;
}

#if defined(__x86_64__)
#include <immintrin.h>

/// Among the candidate bits of one token in the block at `block`, the first whose whole token matches and
/// lies before `best`; updates best/which.
static inline void confirm(uint32_t candidates, const uint8_t *block, const zkrunbook_tokens *tokens, size_t index, uint32_t *best, size_t *which) {
    while (candidates) {
        uint32_t bit = (uint32_t)__builtin_ctz(candidates);
        if (bit >= *best) return;
        if (token_matches(block + bit, tokens, index)) {
            *best = bit;
            *which = index;
            return;
        }
        candidates &= candidates - 1;
    }
}

/// Bytes in a fingerprint: 4, or the shortest token's length when that is less.
static size_t fingerprint_width(const zkrunbook_tokens *tokens) {
    size_t shortest = 4;
    for (size_t index = 0; index < tokens->count; index++)
        if (tokens->lengths[index] < shortest) shortest = tokens->lengths[index];
    return shortest;
}

static int word_byte(uint8_t byte) {
    return (byte >= '0' && byte <= '9') || (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') || byte == '_';
}

/// Where in a token its fingerprint starts. A token's first bytes are often a class name's that a log repeats
/// on every line ("ZooKeeperServer not running" against "ZooKeeperServer@", "File too large" against
/// "FileTxnLog"), so the fingerprint straddles the first word boundary ("r no", "e to"), else the first
/// camel-case joint ("nLos"), else the start. At most 24 bytes in, so a batch always moves on.
static size_t fingerprint_offset(const uint8_t *token, size_t length, size_t width) {
    if (width < 3) return 0;
    for (size_t offset = 0; offset + width <= length && offset <= 24; offset++)
        if (word_byte(token[offset]) && !word_byte(token[offset + 1])) return offset;
    for (size_t offset = 0; offset + width <= length && offset <= 24; offset++)
        if (token[offset] >= 'a' && token[offset] <= 'z' && token[offset + 1] >= 'A' && token[offset + 1] <= 'Z') return offset;
    return 0;
}

/// Hits sorted by position, then token (they come out in fingerprint order, a few bytes apart).
static void sort_hits(zkrunbook_token_hit *hits, size_t count) {
    for (size_t index = 1; index < count; index++) {
        zkrunbook_token_hit hit = hits[index];
        size_t place = index;
        while (place > 0 && (hits[place - 1].position > hit.position || (hits[place - 1].position == hit.position && hits[place - 1].token > hit.token))) {
            hits[place] = hits[place - 1];
            place--;
        }
        hits[place] = hit;
    }
}

/// Every hit with a start in [from, *next), filtered by the tokens' fingerprints all at once (the "Teddy" idea
/// of Hyperscan and ripgrep): each token has a fingerprint of up to 4 of its bytes (fingerprint_offset), and
/// tokens go into 8 buckets by fingerprint, alike ones together; for each fingerprint byte, two 16-entry
/// tables give the buckets whose fingerprint has that low and that high nibble there. One 32-byte block costs
/// a few shuffles whatever the number of tokens; a byte whose bucket bits survive every table is a candidate,
/// and the tokens of its buckets are compared whole where they would start. The loop stops at a block edge
/// while a whole block's hits still fit; the hits that start before every fingerprint not yet read are kept.
__attribute__((target("avx2")))
static size_t all_tokens_avx2(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, zkrunbook_token_hit *hits, size_t capacity, size_t *next, int *stopped) {
    size_t width = fingerprint_width(tokens), offsets[64], order[64], widest = 0;
    uint64_t members[8] = {0};
    uint8_t low[4][16] = {{0}}, high[4][16] = {{0}};
    for (size_t index = 0; index < tokens->count; index++) {
        offsets[index] = fingerprint_offset(tokens->bytes[index], tokens->lengths[index], width);
        if (offsets[index] > widest) widest = offsets[index];
        order[index] = index;
    }
    // Alike fingerprints share a bucket: fewer nibble pairs that no token has survive the tables.
    for (size_t index = 1; index < tokens->count; index++) {
        size_t token = order[index], place = index;
        while (place > 0 && memcmp(tokens->bytes[order[place - 1]] + offsets[order[place - 1]], tokens->bytes[token] + offsets[token], width) > 0) {
            order[place] = order[place - 1];
            place--;
        }
        order[place] = token;
    }
    for (size_t rank = 0; rank < tokens->count; rank++) {
        size_t index = order[rank], bucket = rank * 8 / tokens->count;
        members[bucket] |= 1ull << index;
        for (size_t offset = 0; offset < width; offset++) {
            uint8_t byte = tokens->bytes[index][offsets[index] + offset];
            low[offset][byte & 0x0F] |= (uint8_t)(1u << bucket);
            high[offset][byte >> 4] |= (uint8_t)(1u << bucket);
        }
    }
    __m256i low_table[4], high_table[4];
    for (size_t offset = 0; offset < width; offset++) {
        low_table[offset] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)low[offset]));
        high_table[offset] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)high[offset]));
    }
    const __m256i nibble = _mm256_set1_epi8(0x0F), zero = _mm256_setzero_si256();
    size_t reach = width + 32, position = from, count = 0, room = 32 * tokens->count;
    uint8_t buckets[32];
    for (; length >= reach && position <= length - reach && capacity - count >= room; position += 32) {
        const uint8_t *block = data + position;
        __m256i candidates = _mm256_set1_epi8((char)0xFF);
        for (size_t offset = 0; offset < width; offset++) {
            __m256i bytes = _mm256_loadu_si256((const __m256i *)(block + offset));
            __m256i low_match = _mm256_shuffle_epi8(low_table[offset], _mm256_and_si256(bytes, nibble));
            __m256i high_match = _mm256_shuffle_epi8(high_table[offset], _mm256_and_si256(_mm256_srli_epi16(bytes, 4), nibble));
            candidates = _mm256_and_si256(candidates, _mm256_and_si256(low_match, high_match));
        }
        uint32_t any = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(candidates, zero));
        if (!any) continue;
        _mm256_storeu_si256((__m256i *)buckets, candidates);
        while (any) {
            size_t bit = (size_t)__builtin_ctz(any), fingerprint = position + bit;
            any &= any - 1;
            uint64_t which = 0;
            for (uint8_t set = buckets[bit]; set; set &= (uint8_t)(set - 1)) which |= members[__builtin_ctz(set)];
            for (; which; which &= which - 1) {
                size_t index = (size_t)__builtin_ctzll(which), size = tokens->lengths[index];
                if (fingerprint < from + offsets[index]) continue;
                size_t start = fingerprint - offsets[index];
                if (size > length - start || data[start] != tokens->bytes[index][0] || !token_matches(data + start, tokens, index)) continue;
                hits[count].position = start;
                hits[count].token = index;
                count++;
            }
        }
    }
    // Every start below position - widest has had its fingerprint read; later ones come again.
    size_t done = position > from + widest ? position - widest : from, kept = 0;
    for (size_t index = 0; index < count; index++)
        if (hits[index].position < done) hits[kept++] = hits[index];
    sort_hits(hits, kept);
    *next = done;
    *stopped = length >= reach && position <= length - reach;
    return kept;
}

static long first_token_sse2(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, size_t *which) {
    __m128i firsts[64], lasts[64];
    for (size_t index = 0; index < tokens->count; index++) {
        firsts[index] = _mm_set1_epi8((char)tokens->bytes[index][0]);
        lasts[index] = _mm_set1_epi8((char)tokens->bytes[index][tokens->lengths[index] - 1]);
    }
    size_t reach = longest_token(tokens) + 16;
    size_t position = from;
    for (; length >= reach && position <= length - reach; position += 16) {
        const uint8_t *block = data + position;
        __m128i here = _mm_loadu_si128((const __m128i *)block);
        uint32_t best = 16;
        for (size_t index = 0; index < tokens->count; index++) {
            __m128i tail = _mm_loadu_si128((const __m128i *)(block + tokens->lengths[index] - 1));
            __m128i both = _mm_and_si128(_mm_cmpeq_epi8(here, firsts[index]), _mm_cmpeq_epi8(tail, lasts[index]));
            uint32_t candidates = (uint32_t)_mm_movemask_epi8(both);
            if (candidates) confirm(candidates, block, tokens, index, &best, which);
        }
        if (best < 16) return (long)(position + best);
    }
    return first_token_scalar(data, length, position, tokens, which);
}

size_t zkrunbook_all_tokens(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, zkrunbook_token_hit *hits, size_t capacity, size_t *next) {
    *next = length;
    if (!usable(tokens) || capacity < 128 * tokens->count || from >= length) return 0;
    if (__builtin_cpu_supports("avx2")) {
        int stopped = 0;
        size_t count = all_tokens_avx2(data, length, from, tokens, hits, capacity, next, &stopped);
        // Stopped for room: the caller comes again from *next. Else the tail, start by start.
        if (stopped) return count;
        size_t tail = all_tokens_by_first(data, length, *next, tokens, hits + count, capacity - count, next);
        return count + tail;
    }
    return all_tokens_by_first(data, length, from, tokens, hits, capacity, next);
}

long zkrunbook_first_token(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, size_t *which) {
    if (!usable(tokens) || from >= length) return -1;
    return first_token_sse2(data, length, from, tokens, which);
}

#else

size_t zkrunbook_all_tokens(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, zkrunbook_token_hit *hits, size_t capacity, size_t *next) {
    *next = length;
    if (!usable(tokens) || capacity < 128 * tokens->count || from >= length) return 0;
    return all_tokens_by_first(data, length, from, tokens, hits, capacity, next);
}

long zkrunbook_first_token(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, size_t *which) {
    if (!usable(tokens) || from >= length) return -1;
    return first_token_scalar(data, length, from, tokens, which);
}

#endif

const void *zkrunbook_last_byte(const void *data, int byte, size_t length) { return memrchr(data, byte, length); }

#if defined(__x86_64__)
__attribute__((target("avx2,popcnt")))
static size_t count_byte_avx2(const uint8_t *data, size_t length, uint8_t byte) {
    const __m256i wanted = _mm256_set1_epi8((char)byte);
    size_t count = 0, position = 0;
    for (; position + 32 <= length; position += 32) {
        __m256i bytes = _mm256_loadu_si256((const __m256i *)(data + position));
        count += (size_t)__builtin_popcount((uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(bytes, wanted)));
    }
    for (; position < length; position++) count += data[position] == byte;
    return count;
}
#endif

size_t zkrunbook_count_byte(const void *data, int byte, size_t length) {
    const uint8_t *bytes = data;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt")) return count_byte_avx2(bytes, length, (uint8_t)byte);
#endif
    size_t count = 0;
    for (const uint8_t *at = bytes, *end = bytes + length; (at = memchr(at, byte, (size_t)(end - at))) != NULL; at++) count++;
    return count;
}
