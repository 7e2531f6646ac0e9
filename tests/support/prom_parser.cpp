// The structure of an exposition, across its lines: families declared by HELP/TYPE, their
// samples grouped under them, histograms whole and cumulative, no sample twice.
#include "support/prom_parser.hpp"

#include "support/prom_lines.hpp"

#include <cmath>
#include <optional>
#include <set>
#include <utility>

namespace fdb::test::prom {

namespace {

std::string labels_without_le(const Sample& s) {
  std::string key;
  for (const auto& [k, v] : s.labels)
    if (k != "le") key += k + "=" + v + ";";
  return key;
}

struct HistogramSeries {
  std::vector<std::pair<double, double>> buckets;  // le, cumulative count
  std::optional<double> sum, count;
};

// A histogram's samples by series (their labels but le).
std::map<std::string, HistogramSeries> histogram_series(const Family& f, std::vector<std::string>& errors) {
  std::map<std::string, HistogramSeries> series;
  for (const auto& s : f.samples) {
    auto& ser = series[labels_without_le(s)];
    if (s.name == f.name + "_bucket") {
      auto it = s.labels.find("le");
      if (it == s.labels.end()) {
        errors.push_back(f.name + ": bucket without le");
        continue;
      }
      auto le = lines::read_value(it->second);
      if (!le) {
        errors.push_back(f.name + ": bad le " + it->second);
        continue;
      }
      ser.buckets.emplace_back(*le, s.value);
    } else if (s.name == f.name + "_sum") {
      ser.sum = s.value;
    } else if (s.name == f.name + "_count") {
      ser.count = s.value;
    } else {
      errors.push_back(f.name + ": unexpected sample " + s.name);
    }
  }
  return series;
}

// One series: buckets increasing in le and cumulative, ending at +Inf, with _sum and a
// _count equal to the +Inf bucket.
void check_series(const std::string& where, const HistogramSeries& ser, std::vector<std::string>& errors) {
  if (ser.buckets.empty()) {
    errors.push_back(where + ": no buckets");
    return;
  }
  for (std::size_t i = 1; i < ser.buckets.size(); ++i) {
    if (!(ser.buckets[i - 1].first < ser.buckets[i].first)) errors.push_back(where + ": le not increasing");
    if (ser.buckets[i - 1].second > ser.buckets[i].second) errors.push_back(where + ": buckets not cumulative");
  }
  if (!std::isinf(ser.buckets.back().first) || ser.buckets.back().first < 0)
    errors.push_back(where + ": the last bucket is not le=\"+Inf\"");
  if (!ser.sum) errors.push_back(where + ": no _sum");
  if (!ser.count) errors.push_back(where + ": no _count");
  else if (*ser.count != ser.buckets.back().second) errors.push_back(where + ": _count differs from the +Inf bucket");
}

void check_histogram(const Family& f, std::vector<std::string>& errors) {
  for (const auto& [key, ser] : histogram_series(f, errors)) check_series(f.name + "{" + key + "}", ser, errors);
}

// No two samples with the same name and labels.
void check_duplicates(const Family& f, std::vector<std::string>& errors) {
  std::set<std::string> seen;
  for (const auto& s : f.samples) {
    std::string key = s.name;
    for (const auto& [k, v] : s.labels) key += "|" + k + "=" + v;
    if (!seen.insert(key).second) errors.push_back(f.name + ": duplicate sample " + key);
  }
}

// The state across lines: the families so far, the one whose lines come now, and those
// whose samples ended (samples must be grouped).
class Reader {
 public:
  void line(std::string_view line) {
    ++line_no_;
    if (line.empty()) return;
    if (line[0] == '#') return comment(line);
    std::string why;
    auto sample = lines::parse_sample(line, why);
    if (!sample) return error(why + ": " + std::string(line));
    add_sample(std::move(*sample));
  }

  Exposition finish() && {
    for (const auto& f : out_.families) {
      if (f.type.empty()) out_.errors.push_back(f.name + ": no TYPE");
      if (f.type == "histogram") check_histogram(f, out_.errors);
      check_duplicates(f, out_.errors);
    }
    return std::move(out_);
  }

  // An error of the current line.
  void error(const std::string& why) { out_.errors.push_back("line " + std::to_string(line_no_) + ": " + why); }
  // An error of the whole text.
  void text_error(std::string why) { out_.errors.push_back(std::move(why)); }

 private:
  Family* family_of(const std::string& name) {
    for (auto& f : out_.families)
      if (f.name == name) return &f;
    return nullptr;
  }

  void comment(std::string_view line) {
    std::string why;
    auto meta = lines::parse_meta(line, why);
    if (!meta) {
      if (!why.empty()) error(why);
      return;
    }
    Family* f = family_of(meta->name);
    if (!f) {
      if (!current_.empty()) closed_.insert(current_);
      out_.families.push_back(Family{meta->name, "", "", {}});
      f = &out_.families.back();
      current_ = meta->name;
    } else if (f->name != current_) {
      error("HELP/TYPE of " + meta->name + " away from its family");
    }
    if (meta->help) help(*f, meta->text);
    else type(*f, meta->text);
  }

  void help(Family& f, std::string_view text) {
    if (!f.help.empty()) error("second HELP for " + f.name);
    bool ok = true;
    f.help = lines::unescape_help(text, ok);
    if (!ok) error("bad escape in HELP of " + f.name);
  }

  void type(Family& f, std::string_view text) {
    static const std::set<std::string_view> types{"counter", "gauge", "histogram", "summary", "untyped"};
    if (!f.type.empty()) error("second TYPE for " + f.name);
    if (!f.samples.empty()) error("TYPE after samples of " + f.name);
    if (!types.count(text)) error("unknown type " + std::string(text));
    f.type = std::string(text);
  }

  // The family a sample belongs to: its own name, or a histogram's (summary's) suffixed names.
  Family* family_for(const std::string& sample_name) {
    if (Family* f = family_of(sample_name)) return f;
    for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
      if (sample_name.size() > suffix.size() && sample_name.ends_with(suffix)) {
        const auto base = sample_name.substr(0, sample_name.size() - suffix.size());
        if (auto* f = family_of(base); f && (f->type == "histogram" || f->type == "summary")) return f;
      }
    }
    return nullptr;
  }

  void add_sample(Sample sample) {
    Family* f = family_for(sample.name);
    if (!f) return error("sample of undeclared family " + sample.name);
    if (f->name != current_ || closed_.count(f->name)) error("samples of " + f->name + " are not grouped");
    if (f->type.empty()) error("sample before TYPE of " + f->name);
    if (f->type == "histogram" && sample.name == f->name) error("histogram sample without suffix");
    if (f->type == "counter" && (sample.value < 0 || std::isnan(sample.value)))
      error("negative or NaN counter " + sample.name);
    f->samples.push_back(std::move(sample));
  }

  Exposition out_;
  std::set<std::string> closed_;
  std::string current_;
  std::size_t line_no_ = 0;
};

}  // namespace

Exposition parse(std::string_view text) {
  Reader reader;
  if (!text.empty() && text.back() != '\n') reader.text_error("the last line does not end with a newline");
  while (!text.empty()) {
    const auto nl = text.find('\n');
    reader.line(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  return std::move(reader).finish();
}

}  // namespace fdb::test::prom
