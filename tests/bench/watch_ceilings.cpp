#include "tests/bench/watch_ceilings.hpp"

#include "watch/event_stream.hpp"
#include "watch/field_mask.hpp"
#include "watch/reflector.hpp"
#include "watch/watch_decoder.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>

namespace fdb::bench {

namespace json = boost::json;

using Clock = std::chrono::steady_clock;

namespace {

// Boost.JSON's tokenizer with a handler that keeps nothing: what validating a line costs
// before anything is built (the floor of any decoder on this parser).
struct NothingKept {
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  using ec = boost::system::error_code;
  using sv = json::string_view;
  bool on_document_begin(ec&) { return true; }
  bool on_document_end(ec&) { return true; }
  bool on_object_begin(ec&) { return true; }
  bool on_object_end(std::size_t, ec&) { return true; }
  bool on_array_begin(ec&) { return true; }
  bool on_array_end(std::size_t, ec&) { return true; }
  bool on_key_part(sv, std::size_t, ec&) { return true; }
  bool on_key(sv, std::size_t, ec&) { return true; }
  bool on_string_part(sv, std::size_t, ec&) { return true; }
  bool on_string(sv, std::size_t, ec&) { return true; }
  bool on_number_part(sv, ec&) { return true; }
  bool on_int64(std::int64_t, sv, ec&) { return true; }
  bool on_uint64(std::uint64_t, sv, ec&) { return true; }
  bool on_double(double, sv, ec&) { return true; }
  bool on_bool(bool, ec&) { return true; }
  bool on_null(ec&) { return true; }
  bool on_comment_part(sv, ec&) { return true; }
  bool on_comment(sv, ec&) { return true; }
};

// The informer's path without the network: a store brought to watching through an empty
// list, fed the sample's lines as watch events through `decoder`.
class Pipeline {
 public:
  Pipeline(const kube::WatchCacheOptions& opts, bool fast)
      : mask_(kube::informer_mask(opts)),
        store_(opts.transform, opts.indexes, mask_),
        refl_(reflector_config(opts), [] { return 0.5; }),
        buffer_(std::make_unique<unsigned char[]>(64 * 1024)) {
    store_.set_handlers({.on_add = [](const kube::CachedObject&) {}, .on_modified = [](const kube::CachedObject&) {}});
    refl_.start(now_);
    refl_.on_list_page(now_, {}, "1", "");
    decoder_ = std::make_unique<kube::WatchDecoder>(mask_, static_cast<bool>(opts.transform), store_.keys(), fast);
    decoder_->set_key_hint([this](std::string_view key) { store_.prefetch(key); });  // as the informer does
  }
  Pipeline(const Pipeline&) = delete;  // the decoder's hint holds `this`
  Pipeline& operator=(const Pipeline&) = delete;
  void operator()(const std::string& line) {
    json::monotonic_resource mr(buffer_.get(), 64 * 1024);  // the informer's line arena
    json::storage_ptr sp(&mr);
    for (auto& a : refl_.on_event(now_, decoder_->decode(line, sp))) {
      if (auto* u = std::get_if<kube::reflector::Upsert>(&a)) store_.apply(std::move(*u));
    }
  }
  kube::FastCounts counts() const { return decoder_->fast_counts(); }

 private:
  // Paged, whatever the options say: the lines are watch events, applied one by one.
  static kube::ReflectorConfig reflector_config(const kube::WatchCacheOptions& opts) {
    kube::ReflectorConfig rc = opts.reflector;
    rc.streaming_list = false;
    return rc;
  }
  Clock::time_point now_ = Clock::now();
  std::optional<kube::FieldMask> mask_;
  kube::ObjectCache store_;
  kube::Reflector refl_;
  std::unique_ptr<unsigned char[]> buffer_;
  std::unique_ptr<kube::WatchDecoder> decoder_;
};

// Lines per second of `one` over a slice of 100 ms, going on through the sample from where
// it stopped last time.
double slice(const std::function<void(const std::string&)>& one, const std::vector<std::string>& sample,
             std::size_t& cursor) {
  const auto t0 = Clock::now();
  auto t1 = t0;
  std::size_t n = 0;
  do {
    for (int k = 0; k < 32; ++k, ++n) {
      one(sample[cursor]);
      if (++cursor == sample.size()) cursor = 0;
    }
    t1 = Clock::now();
  } while (t1 - t0 < std::chrono::milliseconds(100));
  return static_cast<double>(n) / std::chrono::duration<double>(t1 - t0).count();
}

// The informer's lines: each sample line followed by the same event at another
// resourceVersion, so that every line fed to a pipeline changes the stored object (as the
// benchmark's watch does), never a no-op because the store holds those bytes already.
std::vector<std::string> as_updates(const std::vector<std::string>& sample) {
  std::vector<std::string> out;
  out.reserve(sample.size() * 2);
  for (const auto& line : sample) {
    out.push_back(line);
    json::value v = json::parse(line);
    auto* md = v.at("object").as_object().if_contains("metadata");
    if (md == nullptr || !md->is_object()) continue;
    json::value& rv = md->as_object()["resourceVersion"];
    rv = std::string(rv.is_string() ? std::string_view(rv.get_string()) : std::string_view("0")) + "1";
    out.push_back(json::serialize(v));
  }
  return out;
}

}  // namespace

Ceilings measure_ceilings(const std::vector<std::string>& sample, const kube::WatchCacheOptions& opts) {
  Ceilings c;
  if (sample.empty()) return c;
  std::size_t bytes = 0;
  for (const auto& line : sample) bytes += line.size();
  c.event_bytes = static_cast<double>(bytes) / static_cast<double>(sample.size());
  auto buffer = std::make_unique<unsigned char[]>(64 * 1024);
  json::basic_parser<NothingKept> tokenizer(json::parse_options{});
  // simdjson's input with its padding made once: the DOM parse alone, no copy.
  std::vector<simdjson::padded_string> padded(sample.begin(), sample.end());
  simdjson::dom::parser dom;
  std::size_t padded_at = 0;
  Pipeline fast(opts, true), reference(opts, false);
  const std::vector<std::string> updates = as_updates(sample);
  const std::function<void(const std::string&)> kinds[] = {
      [](const std::string& line) {
        if (!json::parse(line).is_object()) std::abort();
      },
      [&](const std::string& line) {
        json::monotonic_resource mr(buffer.get(), 64 * 1024);
        if (!json::parse(line, json::storage_ptr(&mr)).is_object()) std::abort();
      },
      [&](const std::string& line) {
        boost::system::error_code ec;
        tokenizer.reset();
        if (tokenizer.write_some(false, line.data(), line.size(), ec) != line.size() || ec) std::abort();
      },
      [&](const std::string&) {
        simdjson::dom::element e;
        if (dom.parse(padded[padded_at]).get(e) != simdjson::SUCCESS || !e.is_object()) std::abort();
        if (++padded_at == padded.size()) padded_at = 0;
      },
      std::ref(fast),
      std::ref(reference),
  };
  double* figures[] = {&c.parse, &c.arena, &c.tokenize, &c.simd, &c.pipeline, &c.pipeline_reference};
  std::size_t at[std::size(kinds)] = {};
  for (int i = 0; i < 8; ++i) {
    for (std::size_t k = 0; k < std::size(kinds); ++k) {
      const bool pipeline = figures[k] == &c.pipeline || figures[k] == &c.pipeline_reference;
      *figures[k] = std::max(*figures[k], slice(kinds[k], pipeline ? updates : sample, at[k]));
    }
  }
  c.fast = fast.counts();
  return c;
}

}  // namespace fdb::bench
