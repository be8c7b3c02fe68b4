#include "workspace/quoted_name.hpp"

#include <cstdio>

namespace cc::workspace {

namespace {

bool needs_quoting(unsigned char c) { return c < 0x20 || c == '"' || c == '\\' || c >= 0x7f; }

// Length of the well-formed UTF-8 sequence at text[i], or 0.
size_t utf8_sequence(const std::string& text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (len == 0 || i + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  }
  unsigned cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (byte(i + k) & 0x3f);
  static const unsigned min_for_length[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_for_length[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

}  // namespace

std::string quote_path(const std::string& path) {
  bool quote = false;
  for (unsigned char c : path) quote = quote || needs_quoting(c);
  if (!quote) return path;
  std::string out = "\"";
  for (unsigned char c : path) {
    switch (c) {
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\v': out += "\\v"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (needs_quoting(c)) {
          char octal[8];
          std::snprintf(octal, sizeof(octal), "\\%03o", c);
          out += octal;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string visible_text(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    bool c1 = c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
              static_cast<unsigned char>(text[i + 1]) <= 0x9f;
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f || (c >= 0x80 && utf8_sequence(text, i) == 0) || c1) {
      char hex[16];
      if (c1) {
        std::snprintf(hex, sizeof(hex), "\\xc2\\x%02x", static_cast<unsigned char>(text[++i]));
      } else {
        std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      }
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

bool valid_utf8(const std::string& text) {
  for (size_t i = 0; i < text.size();) {
    size_t len = utf8_sequence(text, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string utf8_or_replacement(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    size_t len = utf8_sequence(text, i);
    if (len == 0) {
      out += "\xef\xbf\xbd";
      ++i;
    } else {
      out.append(text, i, len);
      i += len;
    }
  }
  return out;
}

}  // namespace cc::workspace
