"""Synthetic resident populations for the registry (住民記録), as Polars frames.

``generate(lg_code, persons, seed=0, as_of=date(2026, 4, 1))`` returns a :class:`Population` with

* ``households`` — household_no (世帯番号, 10 digits with a modulus-11 check digit), head_person_no,
  household_type (single, couple, couple_children, single_parent, three_generation, other), members, and a real
  address: postal_code, pref_name, city_name, ward_name (designated cities), town (町字), town_kana, banchi
  (「3丁目12番5号」 or 「123番地4」), katagaki (方書, building and room, or null);
* ``persons`` — person_no (宛名番号, 10 digits), household_no, relationship (続柄: 世帯主, 妻, 夫, 子, 父, 母,
  夫の父, 夫の母, 子の妻, 子の子, 弟, 妹, 同居人), names and katakana readings, birth_date, sex, nationality
  ("JPN" or ISO alpha-3),
  residence_status / residence_expiry (在留資格 and 在留期間満了日 for foreign residents), resident_code
  (住民票コード), my_number (個人番号), marital_status, widowed, single_parent, student, disability
  (none/ordinary/special), care_need_level (0, 1–7 = 要支援1–要介護5), welfare_recipient, salary_income,
  pension_income, business_income (yen), resident_since, address_since;
* ``events`` — event_no, event_type (birth, death, move_in, move_out, move_within), event_date, recorded_date,
  person_no, household_no, other_lg_code (municipality moved from/to);
* ``persons_departed`` — residents who died or moved out during the history window.

``write_parquet(population, directory)`` saves the four frames. The data are synthetic: identifiers have valid check
digits but belong to no one; addresses use real postal codes and 町字 with invented street numbers.
"""

from kiban.registry.synth.generate import Population, generate, write_parquet

__all__ = ["Population", "generate", "write_parquet"]
