"""The synthetic population's CHI numbers: valid-looking, consistent, never shared."""

import datetime as dt

import numpy as np

from cpmds.synthetic.people import build_populations, chi_check_digit, unique_chis


def test_check_digit_worked_by_hand():
    # 010203 12 3: 0*10+1*9+0*8+2*7+0*6+3*5+1*4+2*3+3*2 = 54; 54 mod 11 = 10; 11-10 = 1
    assert chi_check_digit("010203123") == 1
    # 311299 00 1: 3*10+1*9+1*8+2*7+9*6+9*5+0+0+1*2 = 162; 162 mod 11 = 8; 11-8 = 3
    assert chi_check_digit("311299001") == 3
    # 000000 00 0: sum 0, 11 - 0 = 11, which means 0
    assert chi_check_digit("000000000") == 0
    # 100000 00 0: 1*10 = 10; 11 - 10 = 1
    assert chi_check_digit("100000000") == 1
    # 010000 00 1: 1*9 + 1*2 = 11; 11 mod 11 = 0; 11 - 0 = 11 -> 0
    assert chi_check_digit("010000001") == 0
    # 200000 00 0: 2*10 = 20; 20 mod 11 = 9; 11 - 9 = 2
    assert chi_check_digit("200000000") == 2
    # 010000 00 0: 1*9 = 9; 11 - 9 = 2
    assert chi_check_digit("010000000") == 2
    # 000100 00 0: 1*7 = 7; 11 - 7 = 4
    assert chi_check_digit("000100000") == 4
    # 000000 00 1: 1*2 = 2; 11 - 2 = 9
    assert chi_check_digit("000000001") == 9
    # 500000 00 1: 5*10 + 1*2 = 52; 52 mod 11 = 8; 11 - 8 = 3
    assert chi_check_digit("500000001") == 3
    # 000010 00 0: 1*6 = 6; 11 - 6 = 5
    assert chi_check_digit("000010000") == 5
    # 000001 00 0: 1*5 = 5; 11 - 5 = 6 ... and 000000 01 0: 1*3 = 3; 11 - 3 = 8
    assert chi_check_digit("000001000") == 6
    assert chi_check_digit("000000010") == 8
    # 100000 00 1: 10 + 2 = 12; 12 mod 11 = 1; 11 - 1 = 10: no valid check digit exists
    assert chi_check_digit("100000001") is None


def test_chis_are_distinct_valid_and_carry_birth_date_and_sex():
    rng = np.random.default_rng(5)
    start = np.datetime64("2010-01-01").astype(int)
    # 50,000 births over 90 days: about 280 children share each date of birth and sex.
    dobs = rng.integers(start, start + 90, 50_000)
    males = rng.random(50_000) < 0.5
    chis = unique_chis(dobs, males, rng)
    assert len(np.unique(chis)) == len(chis)
    for chi, dob, male in zip(chis[:3000], dobs[:3000], males[:3000], strict=True):
        text = f"{int(chi):010d}"
        birth = dt.date(1970, 1, 1) + dt.timedelta(days=int(dob))
        assert text[:6] == birth.strftime("%d%m%y")
        assert (int(text[8]) % 2 == 1) == bool(male)
        assert chi_check_digit(text[:9]) == int(text[9])


def test_populations_never_share_a_chi_across_councils_and_mothers():
    populations, mothers = build_populations(
        {"S12000005": 600, "S12000030": 900}, 2000, 2024, 0.51, 500, np.random.default_rng(2)
    )
    every = np.concatenate([p.chi for p in populations.values()] + [mothers.chi])
    assert len(np.unique(every)) == len(every)
    assert len(populations["S12000030"]) > len(populations["S12000005"])
    assert all(np.all(np.diff(p.dob) >= 0) for p in populations.values())
