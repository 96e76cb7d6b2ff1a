// cxr_pggan's text inputs: the training config (examples/cxr_pggan/config.hpp: load_config, --set) and
// the CSV reader of `cxr_pggan split` (examples/common/csv.hpp). Regressions from fuzz/ (docs/reliability.md).
#include "../examples/common/csv.hpp"
#include "../examples/cxr_pggan/config.hpp"

#include <catch2/catch.hpp>
#include <fstream>

#include "reference.hpp"

TEST_CASE("config: numbers outside an option's integer type are errors, not undefined behaviour (fuzz)", "[config][fuzz]") {
    pggan::TrainConfig c;
    // 1e300 and -1.5 were converted to int and uint64 with undefined behaviour; 4294967297 became 1,
    // -1 became 2^64 - 1 and 8.5 became 8, silently
    CHECK_THROWS_WITH(pggan::apply_override(c, "minibatch_base=1e300"), Catch::Contains("option 'minibatch_base': an integer in [-2147483648, 2147483647] is expected, not 1e+300"));
    CHECK_THROWS_WITH(pggan::apply_override(c, "seed=-1.5"), Catch::Contains("option 'seed': an integer in [0, 18446744073709551615]"));
    CHECK_THROWS_WITH(pggan::apply_override(c, "seed=-1"), Catch::Contains("not -1"));
    CHECK_THROWS_WITH(pggan::apply_override(c, "threads=4294967297"), Catch::Contains("not 4294967297"));
    CHECK_THROWS_WITH(pggan::apply_override(c, "minibatch_base=8.5"), Catch::Contains("not 8.5"));
    CHECK_THROWS_WITH(pggan::apply_override(c, "minibatch.512=1e20"), Catch::Contains("option 'minibatch': an integer"));
    CHECK(c.minibatch_base == 4);
    CHECK(c.seed == 1000);
    pggan::apply_override(c, "minibatch_base=8.0"); // a whole number written as a float still reads
    pggan::apply_override(c, "seed=18446744073709551615");
    pggan::apply_override(c, "minibatch.512=16");
    CHECK(c.minibatch_base == 8);
    CHECK(c.seed == 18446744073709551615ull);
    CHECK(c.minibatch.at(512) == 16);
    pggtest::TempDir dir("config_fuzz");
    std::ofstream(dir / "c.json") << R"({"fmap_base": 1e10})";
    CHECK_THROWS_WITH(pggan::load_config(dir / "c.json"), Catch::Contains("c.json: option 'fmap_base': an integer"));
}

TEST_CASE("config: a --set value that is not UTF-8 is reported, not thrown past pgg::error (fuzz)", "[config][fuzz]") {
    pggan::TrainConfig c;
    // dump() of the raw string in the error message threw nlohmann's type_error 316
    CHECK_THROWS_AS(pggan::apply_override(c, "reset_opt_for_new_lod=f\x80x"), pgg::error);
    CHECK_THROWS_WITH(pggan::apply_override(c, "minibatch={\"4\": \"\x80\"}"), Catch::Contains("option 'minibatch'"));
}

TEST_CASE("csv: quotes, blank lines and ragged rows", "[csv]") {
    pggtest::TempDir dir("csv");
    std::ofstream(dir / "a.csv", std::ios::binary) << "file,label,\"note, with comma\"\r\n\"x,1.png\",\"a \"\"b\"\"\",\r\n\ny.png,b,c\n";
    const pgg::app::Csv csv(dir / "a.csv");
    REQUIRE(csv.rows.size() == 2);
    CHECK(csv.header[2] == "note, with comma");
    CHECK(csv.rows[0] == std::vector<std::string>{"x,1.png", "a \"b\"", ""});
    CHECK(csv.lines == std::vector<int>{2, 4});
    CHECK(csv.column("label") == 1);
    CHECK_THROWS_WITH(csv.column("Target"), Catch::Contains("a.csv: missing column 'Target'"));
    std::ofstream(dir / "r.csv") << "file,label\na.png\n";
    CHECK_THROWS_WITH(pgg::app::Csv(dir / "r.csv"), Catch::Contains("r.csv:2: 1 fields, the header has 2"));
    std::ofstream(dir / "e.csv") << "";
    CHECK_THROWS_WITH(pgg::app::Csv(dir / "e.csv"), Catch::Contains("e.csv: empty file"));
}
