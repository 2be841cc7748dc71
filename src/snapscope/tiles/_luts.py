"""Built-in colormaps, used when matplotlib is not installed.

Each entry is the 256 RGB bytes (alpha 255) of the matplotlib 3.11 colormap of that name,
base64-encoded; regenerate with::

    import base64, matplotlib, numpy as np
    lut = matplotlib.colormaps[name](np.arange(256), bytes=True)
    base64.b64encode(lut[:, :3].tobytes()).decode()

``tests/unit/test_tiles.py`` checks them against matplotlib.
"""

__all__ = ["BUILTIN_LUTS"]

BUILTIN_LUTS: dict[str, str] = {
    "gray": (
        "AAAAAQEBAgICAwMDBAQEBQUFBgYGBwcHCAgICQkJCgoKCwsLDAwMDQ0NDg4ODw8PEBAQEREREhISExMTFBQUFRUV"
        "FhYWFxcXGBgYGRkZGhoaGxsbHBwcHR0dHh4eHx8fICAgICAgIiIiIyMjJCQkJCQkJiYmJycnKCgoKCgoKioqKysr"
        "LCwsLCwsLi4uLy8vMDAwMDAwMjIyMzMzNDQ0NDQ0NjY2Nzc3ODg4ODg4Ojo6Ozs7PDw8PDw8Pj4+Pz8/QEBAQUFB"
        "QUFBQ0NDRERERUVFRkZGR0dHSEhISUlJSUlJS0tLTExMTU1NTk5OT09PUFBQUVFRUVFRU1NTVFRUVVVVVlZWV1dX"
        "WFhYWVlZWVlZW1tbXFxcXV1dXl5eX19fYGBgYWFhYWFhY2NjZGRkZWVlZmZmZ2dnaGhoaWlpaWlpa2trbGxsbW1t"
        "bm5ub29vcHBwcXFxcXFxc3NzdHR0dXV1dnZ2d3d3eHh4eXl5eXl5e3t7fHx8fX19fn5+f39/gICAgYGBgoKCg4OD"
        "g4ODhYWFhoaGh4eHiIiIiYmJioqKi4uLjIyMjY2Njo6Oj4+PkJCQkZGRkpKSk5OTk5OTlZWVlpaWl5eXmJiYmZmZ"
        "mpqam5ubnJycnZ2dnp6en5+foKCgoaGhoqKio6Ojo6OjpaWlpqamp6enqKioqampqqqqq6urrKysra2trq6ur6+v"
        "sLCwsbGxsrKys7Ozs7OztbW1tra2t7e3uLi4ubm5urq6u7u7vLy8vb29vr6+v7+/wMDAwcHBwsLCw8PDw8PDxcXF"
        "xsbGx8fHyMjIycnJysrKy8vLzMzMzc3Nzs7Oz8/P0NDQ0dHR0tLS09PT09PT1dXV1tbW19fX2NjY2dnZ2tra29vb"
        "3Nzc3d3d3t7e39/f4ODg4eHh4uLi4+Pj4+Pj5eXl5ubm5+fn6Ojo6enp6urq6+vr7Ozs7e3t7u7u7+/v8PDw8fHx"
        "8vLy8/Pz8/Pz9fX19vb29/f3+Pj4+fn5+vr6+/v7/Pz8/f39/v7+////"
    ),
    "viridis": (
        "RAFURAJVRANXRQVYRQZaRQhbRglcRgteRgxfRg5hRw9iRxFjRxJlRxRmRxVnRxZpRxhqSBlrSBpsSBxuSB1vSB5w"
        "SCBxSCFySCJzSCN0RyV1RyZ2Ryd3Ryh4Ryp5Ryt6Ryx7Ri18Ri98RjB9RjF+RTJ/RTR/RTWARTaBRDeBRDmCQzqD"
        "QzuDQzyEQj2EQj6FQkCFQUGGQUKGQEOHQESHP0WHP0eIPkiIPkmJPUqJPUuJPUyJPE2KPE6KO1CKO1GKOlKLOlOL"
        "OVSLOVWLOFaLOFeMN1iMN1mMNlqMNluMNVyMNV2MNF6NNF+NM2CNM2GNMmKNMmONMWSNMWWNMWaNMGeNMGiNL2mN"
        "L2qNLmuOLmyOLm2OLW6OLW+OLHCOLHGOLHKOK3OOK3SOKnWOKnaOKneOKXiOKXmOKHqOKHqOKHuOJ3yOJ32OJ36O"
        "Jn+OJoCOJoGOJYKOJYONJISNJIWNJIaNI4eNI4iNI4mNIomNIoqNIouNIYyNIY2MIY6MII+MIJCMIJGMH5KMH5OL"
        "H5SLH5WLH5aLHpeKHpiKHpmKHpmKHpqJHpuJHpyJHp2IHp6IHp+IHqCHH6GHH6KGH6OGIKSFIKWFIaaFIaeEIqeE"
        "I6iDI6mCJKqCJauBJqyBJ62AKK5/Ka9/KrB+K7F9LLF9LrJ8L7N7MLR6MrV6M7Z5Nbd4Nrh3OLl2Obl2O7p1Pbt0"
        "PrxzQL1yQr5xRL5wRb9vR8BuScFtS8JsTcJrT8NpUcRoU8VnVcZmV8ZlWcdkW8hiXslhYMlgYspfZMtdZ8xcacxb"
        "a81Zbc5YcM5Wcs9VdNBUd9BSedFRfNJPftJOgdNMg9NLhtRJiNVHi9VGjdZEkNZDktdBldc/l9g+mtg8ndk6n9k4"
        "oto3pdo1p9szqtsyrdwwr9wust0std0rt90put4nvd4mv98kwt8ixd8hx+AfyuAezeAdz+Ec0uEb1OEa1+IZ2uIY"
        "3OIY3+MY4eMY5OMY5+QZ6eQZ7OQa7uUb8eUc8+Ue9uYf+OYh+uYi/eck"
    ),
    "magma": (
        "AAADAAAEAAAGAQAHAQEJAQELAgINAgIPAwMRBAMTBAQVBQQXBgUZBwUbCAYdCQcfCgciCwgkDAkmDQooDgoqDwss"
        "EAwvEQwxEg0zFA01FQ44Fg46Fw88GA8/GhBBGxBEHBBGHhBJHxFLIBFNIhFQIxFSJRFVJhFXKBFZKhFcKxFeLRBg"
        "LxBiMBBlMhBnNBBoNQ9qNw9sOQ9uOw9vPA9xPg9yQA9zQg90Qw91RQ92Rw93SBB4ShB5SxB5TRF6TxF7UBJ7UhJ8"
        "UxN8VRN9VxR9WBV+WhV+WxZ+XRd+Xhd/YBh/YRh/Yxl/ZRqAZhqAaBuAaRyAaxyAbB2Abh6Bbx6BcR+Bcx+BdCCB"
        "diGBdyGBeSKBeiKBfCOBfiSBfySBgSWBgiWBhCaBhSaBhyeBiSiBiiiBjCmAjSmAjyqAkSqAkiuAlCuAlSyAlyx/"
        "mS1/mi1/nC5/ni5+ny9+oS9+ozB+pDB9pjF9pzF9qTJ8qzN8rDN7rjR7sDR7sTV6szV6tTZ5tjZ5uDd4uTd4uzh3"
        "vTl3vjl2wDp1wjp1wzt0xTx0xjxzyD1yyj5yyz5xzT9wzkBw0EFv0UJu00Jt1ENt1kRs10Vr2UZq2kdp3Ehp3Ulo"
        "3kpn4Etm4Uxm4k1l5E5k5VBj5lFi51Ji6FRh6lVg61Zg7Fhf7Vlf7lte7l1d715d8GBd8WFc8mNc82Vc82db9Ghb"
        "9Wpb9Wxb9m5b9nBb93Fb93Nc+HVc+Hdc+Xlc+Xtd+X1d+n9e+oBe+oJf+4Rg+4Zg+4hh+4pi/Ixj/I5j/JBk/JJl"
        "/JNm/ZVn/Zdo/Zlp/Ztq/Z1r/Z9s/aFu/aJv/aRw/qZx/qhz/qp0/qx1/q52/q94/rF5/rN7/rV8/rd9/rl//ruA"
        "/ryC/r6D/sCF/sKG/sSI/saJ/seL/smN/suO/c2Q/c+S/dGT/dKV/dSX/daY/dia/dqc/dyd/d2f/d+h/eGj/OOl"
        "/OWm/Oao/Oiq/Oqs/Oyu/O6w/PCx/PGz/PO1/PW3+/e5+/m7+/q9+/y/"
    ),
    "inferno": (
        "AAADAAAEAAAGAQAHAQEJAQELAgEOAgIQAwISBAMUBAMWBQQYBgQbBwUdCAYfCQYhCgcjCwcmDQgoDggqDwktEAkv"
        "EgoyEwo0FAs2Fgs5Fws7GQs+GgtAHAxDHQxFHwxHIAxKIgtMJAtOJgtQJwtSKQtUKwpWLQpYLgpaMApcMgldNAlf"
        "NQlgNwlhOQliOwlkPAllPglmQAlmQQlnQwpoRQppRgppSAtqSgtqSwxrTQxrTw1sUA1sUg5sUw5tVQ9tVw9tWBBt"
        "WhFtWxFuXRJuXxJuYBNuYhRuYxRuZRVuZhVuaBZuahduaxdubRhubhhucBluchltcxptdRttdhtteBxtehxtex1s"
        "fR1sfh5sgB9rgR9rgyBrhSBqhiFqiCFqiSJpiyJpjSNpjiRokCRokSVnkyVnlSZmliZmmCdlmShkmyhknCljnilj"
        "oCpioSthoythpCxgpixfpy1fqS5eqy5drC9crjBbrzFbsTFasjJZtDNYtTNXtzRWuDVWujZVuzdUvTdTvjhSvzlR"
        "wTpQwjtPxDxOxT1Nxz5MyD5LyT9Ky0BJzEFIzUJHz0RG0EVE0UZD0kdC1EhB1UlA1ko/10s+2U092k4720863FA5"
        "3VI43lM331Q24FY04lcz41gy5Fox5Vsw5lwu5l4t518s6GEr6WIq6mQo62Un7Gcm7Wgl7Woj7mwi720h8G8f8HAe"
        "8XId8nQc8nUa83cZ83kY9HoW9XwV9X4U9oAS9oER94MQ94UO+IcN+IgM+IoL+YwJ+Y4I+ZAI+pEH+pMG+pUG+pcG"
        "+5kG+5sG+50G+54H+6AH+6II+6QK+6YL+6gN+6oO+6wQ+64S+7AU+7EW+7MY+7Ua+7cc+7ke+rsh+r0j+r8l+sEo"
        "+cMq+cUs+ccv+Mkx+Ms0+M03988699E89tM/9tVC9ddF9dlI9NtL9NxP895S8+BW8+JZ8uRd8uZg8ehk8elo8ets"
        "8e1w8e508fB58fJ98vOB8vSF8/aJ9PeN9fiR9vqV9/uZ+fyd+v2g/P6k"
    ),
    "plasma": (
        "DAeGEAeHEwaJFQaKGAaLGwaMHQaNHwWOIQWPIwWQJQWRJwWSKQWTKwWULQSULwSVMQSWMwSXNASYNgSYOASZOgSa"
        "OwOaPQObPwOcQAOcQgOdRAOeRQOeRwKfSQKfSgKgTAKhTgKhTwKiUQGiUgGjVAGjVgGjVwGkWQGkWgClXAClXgCl"
        "XwCmYQCmYgCmZACnZQCnZwCnaACnagCnbACobQCobwCocACocgCocwCodQCodgGoeAGoeQGoewKofAKnfgOnfwOn"
        "gQSnggSnhAWmhQamhgemiAeliQiliwmkjAqkjgykjw2jkA6jkg+ikxChlRGhlhKglxOgmRSfmhWemxeenRidnhmc"
        "nxqboBubohyaox2ZpB6YpR+XpyGXqCKWqSOVqiSUrCWTrSaSrieRryiQsCqPsSuPsiyOtC2NtS6Mti+LtzCKuDKJ"
        "uTOIujSHuzWGvDaFvTeEvjiDvzmCwDuBwTyAwj2Awz5/xD9+xUB9xkF8x0J7yER6yUV5ykZ4y0d3zEh2zUl1zkp1"
        "z0t00E1z0U5y0U9x0lBw01Fv1FJu1VNt1lVt11Zs11dr2Fhq2Vlp2lpo21tn3F1m3F5m3V9l3mBk32Fj32Ji4GRh"
        "4WVg4mZg42df42he5Gpd5Wtc5Wxb5m1a525a6HBZ6HFY6XJX6nNW6nRV63ZU7HdU7HhT7XlS7XtR7nxQ731P735O"
        "8IBN8IFN8YJM8oRL8oVK84ZJ84dI9IlH9IpH9YtG9Y1F9o5E9o9D9pFC95JB95NB+JVA+JY/+Jg++Zk9+Zo8+pw7"
        "+p06+p86+qA5+6I4+6M3+6Q2/KY1/Kc1/Kk0/Koz/Kwy/K0x/a8x/bAw/bIv/bMu/bUt/bYt/bgs/bkr/bsr/bwq"
        "/b4p/cAp/cEo/cMo/cQn/cYm/Mcm/Mkm/Msl/Mwl/M4l+9Ak+9Ek+9Mk+tUk+tYk+tgk+dkk+dsk+N0k+N8k9+Ak"
        "9+Il9uQl9uUl9ecm9ekm9Oom8+wm8+4m8vAm8vEm8fMm8PUl8PYj7/gh"
    ),
    "cividis": (
        "ACJNACNPACNQACRSACVUACZVACZXACdZAChbAChcACleACpgACpiACtkACxmACxnAC1pAC5rAC9tAC9vADBwADBw"
        "ADFwADFwBDJwCDNwCzNwDjRwETVvFDZvFjZvGDdvGjhvHDhuHTluHzpuITtuIjtuJDxuJT1tJz1tKD5tKj9tKz9t"
        "LEBtLkFsL0JsMEJsMUNsMkRsNERsNUVsNkZsN0ZsOEdsOUhsOkhrO0lrPUprPktrP0trQExrQU1rQk1rQ05rRE9r"
        "RU9rRlBrR1FrSFFrSVJrSlNrS1RsTFRsTVVsTlZsTlZsT1dsUFhsUVhsUllsU1psVFpsVVttVlxtV11tWF1tWV5t"
        "WV9tWl9tW2BuXGFuXWFuXmJuX2NuYGRuYWRvYWVvYmZvY2ZvZGdvZWhwZmlwZ2lwaGpwaGtxaWtxamxxa21xbG1y"
        "bW5ybm9ybnBzb3BzcHFzcXJzcnN0c3N0dHR1dHV1dXV1dnZ2d3d2eHh2eXh3eXl3enp3e3t3fHt4fXx4fn14f314"
        "gH54gX94goB4g4B4hIF4hYJ4hYN4hoN4h4R4iIV4iYZ4ioZ4i4d4jIh4jYl4jol4j4p3kIt3kYx3kox3k413lI53"
        "lY93lo93l5B2mJF2mZJ2mpN2m5N2nJR2nZV1npZ1n5Z1oJd1oZh0opl0o5p0pJp0pZtzppxzp51zqJ5zqZ5yqp9y"
        "q6ByrKFxraJxrqJxr6NwsKRwsaVwsqZvs6ZvtKdvtahutqlut6ptuKttuattuqxsu61svK5rva9rvrBqv7BqwbFp"
        "wrJpw7NoxLRoxbVnxrVnx7ZmyLdlybhlyrlky7pkzLtjzbxizrxiz71h0L5g0r9g08Bf1MFe1cJe1sNd18Nc2MRb"
        "2cVa2sZa28dZ3MhY3slX38pW4MtV4cxU4sxT481S5M5R5c9Q5tBP6NFO6dJN6tNM69RL7NVK7dZI7tdH79hG8dlE"
        "8tpD89pC9NtA9dw/9t09+N47+d86+uA4++E2/eI0/eMz/eU0/eY2/ec3"
    ),
}
