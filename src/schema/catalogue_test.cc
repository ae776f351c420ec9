#include <gtest/gtest.h>

#include "schema/schema.h"
#include "testing/declared_tables.h"

namespace propgrade {
namespace {

TableDeclaration PlayerForm() {
  TableDeclaration d = testing::PlayerFormDaily();
  d.columns.push_back({"version", ColumnType::kInteger, false});
  d.keep = WinnerRule{"version", true, ""};
  return d;
}

Catalogue::ColumnReader NoDatabase() {
  return [](const std::string& t) -> StatusOr<std::vector<ExistingColumn>> {
    return NotFoundError("no table " + t);
  };
}

TEST(CatalogueTest, TheBuiltInCatalogueIsTheSchemasTables) {
  auto c = Catalogue::BuiltIn();
  EXPECT_EQ(c->tables().size(), AllTables().size());
  EXPECT_TRUE(c->declared().empty());
  EXPECT_EQ(c->Find("prediction_accuracy"), &tables::Accuracy());
  EXPECT_EQ(c->WrittenBy("grading"), &tables::Accuracy());
  EXPECT_EQ(c->Find("player_form_daily"), nullptr);
}

TEST(CatalogueTest, ADeclaredTableIsPartitionedKeyedAndWrittenByItsProcessor) {
  auto built = Catalogue::Build({PlayerForm()}, NoDatabase());
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  const TableDef* t = (*built)->Find("player_form_daily");
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->declared);
  EXPECT_TRUE(t->versioned);
  EXPECT_EQ(t->writer, "player_form_daily");  // processor defaults to the name
  EXPECT_EQ((*built)->WrittenBy("player_form_daily"), t);
  // The partition column leads the stored key: a key is unique within its partition.
  EXPECT_EQ(t->key_columns, (std::vector<std::string>{"as_of_date", "player_lookup"}));
  EXPECT_TRUE(t->BusinessKeyIsStoredKey());
  EXPECT_TRUE(t->columns[0].required);
  EXPECT_EQ((*built)->tables().size(), AllTables().size() + 1);
  EXPECT_EQ((*built)->declared().size(), 1u);
}

TEST(CatalogueTest, KeepOrdersANumberAsANumber) {
  auto built = Catalogue::Build({PlayerForm()}, NoDatabase());
  ASSERT_TRUE(built.ok());
  const TableDef& t = *(*built)->Find("player_form_daily");
  Row v9(4), v10(4);
  v9[3] = Value::Int(9);
  v10[3] = Value::Int(10);
  EXPECT_TRUE(Newer(t, v10, v9));  // as text, "10" < "9"
  EXPECT_FALSE(Newer(t, v9, v10));
}

TEST(CatalogueTest, BadDeclarationsNameTheTableAndTheField) {
  struct Case {
    const char* what;
    std::function<void(TableDeclaration*)> edit;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"built-in name", [](TableDeclaration* d) { d->name = "prediction_accuracy"; },
       "propgrade's own"},
      {"bad name", [](TableDeclaration* d) { d->name = "Player Form"; }, "lower-case"},
      {"no partition", [](TableDeclaration* d) { d->partition_column.clear(); },
       "partition_column is required"},
      {"partition not a column", [](TableDeclaration* d) { d->partition_column = "day"; },
       "partition_column: 'day' is not a column"},
      {"no key", [](TableDeclaration* d) { d->key.clear(); }, "key: at least one column"},
      {"key not a column", [](TableDeclaration* d) { d->key = {"player"}; },
       "key: 'player' is not a column"},
      {"keep not a column", [](TableDeclaration* d) { d->keep->time_column = "at"; },
       "keep.column: 'at'"},
      {"built-in processor", [](TableDeclaration* d) { d->processor = "grading"; },
       "one of propgrade's own"},
      {"column twice", [](TableDeclaration* d) { d->columns.push_back(d->columns[1]); },
       "'player_lookup' twice"},
      {"introspect a managed table", [](TableDeclaration* d) { d->introspect = true; },
       "manage_schema = false"},
  };
  for (const Case& c : cases) {
    TableDeclaration d = PlayerForm();
    c.edit(&d);
    auto built = Catalogue::Build({d}, NoDatabase());
    ASSERT_FALSE(built.ok()) << c.what;
    EXPECT_EQ(built.status().code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_NE(built.status().message().find(c.message), std::string::npos)
        << c.what << ": " << built.status().ToString();
  }
  TableDeclaration other = PlayerForm();
  other.name = "player_form_weekly";
  other.processor = "player_form_daily";  // the first table's (default) processor
  auto twice = Catalogue::Build({PlayerForm(), other}, NoDatabase());
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("already writes another"), std::string::npos);
}

TEST(CatalogueTest, IntrospectionReadsTheColumnsTheDatabaseHas) {
  TableDeclaration d = PlayerForm();
  d.columns.clear();
  d.introspect = true;
  d.manage_schema = false;
  auto reader = [](const std::string& t) -> StatusOr<std::vector<ExistingColumn>> {
    EXPECT_EQ(t, "player_form_daily");
    return std::vector<ExistingColumn>{{"as_of_date", "date", true},
                                       {"player_lookup", "character varying", true},
                                       {"form", "double precision", false},
                                       {"version", "BIGINT", false}};
  };
  auto built = Catalogue::Build({d}, reader);
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  const TableDef& t = *(*built)->Find("player_form_daily");
  ASSERT_EQ(t.columns.size(), 4u);
  EXPECT_EQ(t.columns[1].type, ColumnType::kText);
  EXPECT_TRUE(t.columns[1].required);
  EXPECT_EQ(t.columns[2].type, ColumnType::kReal);
  EXPECT_EQ(t.columns[3].type, ColumnType::kInteger);
  EXPECT_FALSE(t.manage_schema);

  auto missing = Catalogue::Build({d}, NoDatabase());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no table player_form_daily"), std::string::npos);
  auto blob = [](const std::string&) -> StatusOr<std::vector<ExistingColumn>> {
    return std::vector<ExistingColumn>{{"as_of_date", "date", true}, {"payload", "bytea", false}};
  };
  auto untyped = Catalogue::Build({d}, blob);
  ASSERT_FALSE(untyped.ok());
  EXPECT_NE(untyped.status().message().find("'bytea'"), std::string::npos);
}

}  // namespace
}  // namespace propgrade
