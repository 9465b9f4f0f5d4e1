// SPDX-License-Identifier: GPL-2.0
/*
 * One print path for text and JSON output (see print.h).
 */
#include <stdio.h>
#include <string.h>

#include "print.h"

#define MAX_DEPTH 16

static struct {
	bool json, pretty;
	int depth;
	bool first[MAX_DEPTH];	/* no member written yet at this depth */
	bool started;		/* a JSON document is open */
	unsigned int cells;	/* text cells printed on this line */
} po;

void print_init(bool json, bool pretty)
{
	memset(&po, 0, sizeof(po));
	po.json = json;
	po.pretty = json && pretty;
}

bool is_json(void)
{
	return po.json;
}

static void indent(void)
{
	int i;

	if (!po.pretty)
		return;
	putchar('\n');
	for (i = 0; i < po.depth; i++)
		fputs("    ", stdout);
}

/* Separator and key before a value at the current depth. */
static void json_member(const char *key)
{
	if (po.depth > 0) {
		if (!po.first[po.depth])
			putchar(',');
		po.first[po.depth] = false;
		indent();
	}
	po.started = true;
	if (key) {
		json_escape(stdout, key);
		fputs(po.pretty ? ": " : ":", stdout);
	}
}

static void json_open(const char *key, char c)
{
	json_member(key);
	putchar(c);
	if (po.depth < MAX_DEPTH - 1)
		po.depth++;
	po.first[po.depth] = true;
}

static void json_close(char c)
{
	bool empty = po.first[po.depth];

	if (po.depth > 0)
		po.depth--;
	if (!empty)
		indent();
	putchar(c);
}

void open_json_object(const char *key)
{
	if (po.json)
		json_open(key, '{');
}

void close_json_object(void)
{
	if (po.json)
		json_close('}');
}

void open_json_array(const char *key)
{
	if (po.json)
		json_open(key, '[');
}

void close_json_array(void)
{
	if (po.json)
		json_close(']');
}

void print_flush(void)
{
	if (po.json && po.started) {
		putchar('\n');
		po.started = false;
	}
	fflush(stdout);
}

/* Length of a valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned int cp;

	if (s[0] < 0xc2)
		return 0;
	else if (s[0] < 0xe0)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] < 0xf0)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] < 0xf5)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

size_t json_escape(FILE *fp, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t out = 2, n;

	fputc('"', fp);
	while (*s) {
		switch (*s) {
		case '"':
			out += fprintf(fp, "\\\"");
			break;
		case '\\':
			out += fprintf(fp, "\\\\");
			break;
		case '\n':
			out += fprintf(fp, "\\n");
			break;
		case '\t':
			out += fprintf(fp, "\\t");
			break;
		case '\r':
			out += fprintf(fp, "\\r");
			break;
		default:
			if (*s < 0x20 || *s == 0x7f) {
				out += fprintf(fp, "\\u%04x", *s);
			} else if (*s < 0x80) {
				fputc(*s, fp);
				out++;
			} else {
				n = utf8_len(s);
				if (!n) {
					/* not UTF-8: keep the document valid */
					out += fprintf(fp, "\\ufffd");
					break;
				}
				fwrite(s, 1, n, fp);
				out += n;
				s += n;
				continue;
			}
		}
		s++;
	}
	fputc('"', fp);
	return out;
}

void print_string(enum output_type t, const char *key, const char *fmt,
		  const char *value)
{
	if (po.json) {
		if (t & PRINT_JSON) {
			json_member(key);
			json_escape(stdout, value);
		}
	} else if ((t & PRINT_FP) && fmt) {
		printf(fmt, value);
	}
}

void print_u64(enum output_type t, const char *key, const char *fmt,
	       __u64 value)
{
	if (po.json) {
		if (t & PRINT_JSON) {
			json_member(key);
			printf("%llu", (unsigned long long)value);
		}
	} else if ((t & PRINT_FP) && fmt) {
		printf(fmt, (unsigned long long)value);
	}
}

void print_uint(enum output_type t, const char *key, const char *fmt,
		unsigned int value)
{
	if (po.json) {
		if (t & PRINT_JSON) {
			json_member(key);
			printf("%u", value);
		}
	} else if ((t & PRINT_FP) && fmt) {
		printf(fmt, value);
	}
}

void print_bool(enum output_type t, const char *key, const char *fmt,
		bool value)
{
	if (po.json) {
		if (t & PRINT_JSON) {
			json_member(key);
			fputs(value ? "true" : "false", stdout);
		}
	} else if ((t & PRINT_FP) && fmt) {
		printf(fmt, value ? "true" : "false");
	}
}

void print_null(enum output_type t, const char *key, const char *fmt,
		const char *text_value)
{
	if (po.json) {
		if (t & PRINT_JSON) {
			json_member(key);
			fputs("null", stdout);
		}
	} else if ((t & PRINT_FP) && fmt) {
		printf(fmt, text_value);
	}
}

void print_cell(enum output_type t, const char *key, int width,
		const char *value)
{
	if (po.json) {
		print_string(t, key, NULL, value);
	} else if (t & PRINT_FP) {
		/* separators between cells, none at the end of the line */
		if (po.cells++)
			fputs("  ", stdout);
		if (width < 0)
			printf("%*s", -width, value);
		else
			printf("%-*s", width, value);
	}
}

void print_text(const char *text)
{
	if (!po.json)
		fputs(text, stdout);
}

void print_nl(void)
{
	po.cells = 0;
	print_text("\n");
}
