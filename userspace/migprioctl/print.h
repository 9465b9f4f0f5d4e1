/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One print path for text and JSON output, after iproute2's json_print:
 * print_uint(PRINT_ANY, "key", "text fmt", value) writes "text fmt" in text
 * mode and "key": value with -j, so both outputs come from the same call.
 */
#ifndef MIGPRIOCTL_PRINT_H
#define MIGPRIOCTL_PRINT_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

enum output_type {
	PRINT_FP = 1,		/* text only */
	PRINT_JSON = 2,		/* JSON only */
	PRINT_ANY = 3,		/* both */
};

void print_init(bool json, bool pretty);
bool is_json(void);
/* End of one JSON document (newline) and flush; no-op in text mode. */
void print_flush(void);

/* JSON containers; key NULL inside arrays and at top level. */
void open_json_object(const char *key);
void close_json_object(void);
void open_json_array(const char *key);
void close_json_array(void);

/* fmt is used in text mode only; NULL prints nothing there. */
void print_string(enum output_type t, const char *key, const char *fmt,
		  const char *value);
void print_uint(enum output_type t, const char *key, const char *fmt,
		unsigned int value);
void print_u64(enum output_type t, const char *key, const char *fmt,
	       __u64 value);
void print_bool(enum output_type t, const char *key, const char *fmt,
		bool value);
/* JSON null; text prints fmt with text_value. */
void print_null(enum output_type t, const char *key, const char *fmt,
		const char *text_value);
/* Text: a cell padded to width (negative: right aligned), then 2 spaces. */
void print_cell(enum output_type t, const char *key, int width,
		const char *value);
/* Text-only literal text (a label, a newline). */
void print_text(const char *text);
void print_nl(void);

/* JSON string escaping, exposed for tests: returns bytes written. */
size_t json_escape(FILE *fp, const char *s);

#endif /* MIGPRIOCTL_PRINT_H */
